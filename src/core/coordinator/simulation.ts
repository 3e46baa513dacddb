import type { WorkerReport } from "../agents/worker-status.ts";
import type { WorldAction } from "./actions.ts";
import type { CoordinatorEvent } from "./events.ts";
import { mergeReadyEvent, outcomeEvents } from "./outcomes.ts";
import { committed, contentsOf, merged, restacked, treeId, treePasses, type Contents, type WorldSemantics } from "./world-contents.ts";

/**
 * A pure, scripted world that answers the coordinator's world actions with
 * the events a runtime would record: branches as names → shas on a fake
 * forge, pull requests, agents whose outcomes follow a script. The scenario
 * and property tests drive `decide` against it; it also checks what a real
 * forge would punish (merging into a stacked base, deleting a branch a pull
 * request still targets) and throws `SimulationError` when asked to.
 */

export type ScriptedOutcome = "success" | "failure" | "crash" | "oom" | "no-commits" | "blocked" | "rate-limited" | "lost" | "interrupted";

export interface IssueScript {
  readonly warm?: "ok" | "fail";
  /** The worker host its instance is made on (none said when absent). */
  readonly host?: string;
  /** How a move of its instance to another host (`Warm` with `to`) goes: "fail" when that host cannot make it. Default "ok". */
  readonly move?: "ok" | "fail";
  /** How each launch goes, in turn: "unstartable" is an agent that cannot be started (no executable); then every launch starts. */
  readonly launch?: readonly ("ok" | "unstartable")[];
  /** How each run of the agent ends, in turn (every kind of attempt); once used up, every run succeeds. */
  readonly attempts?: readonly ScriptedOutcome[];
  readonly verify?: readonly ("pass" | "fail")[];
  readonly restack?: readonly ("ok" | "conflict")[];
  readonly checks?: readonly ("green" | "pending" | "failing" | "conflicting")[];
  /** How each merge of its head into the feature branch's tip goes, in turn (then clean); its verify follows the tree's contents. */
  readonly landing?: readonly ("clean" | "conflict")[];
}

export interface SimulatedWorld {
  readonly featureBranch: string;
  readonly branches: Readonly<Record<string, string>>;
  /** Each worker's checkout head, by issue. */
  readonly workspaces: Readonly<Record<number, string>>;
  readonly pullRequests: Readonly<Record<number, { readonly number: number; readonly base: string; readonly merged: boolean }>>;
  readonly scripts: Readonly<Record<number, IssueScript>>;
  /** How much of each issue's script was used: `attempts`, `verify`, `restack`, `checks`. */
  readonly used: Readonly<Record<string, number>>;
  readonly shas: number;
  /** Whose work each commit holds (world-contents.ts): what a verify of its tree answers. */
  readonly contents: Readonly<Record<string, Contents>>;
  readonly semantics: WorldSemantics;
}

export class SimulationError extends Error {
  override readonly name = "SimulationError";
}

export function createWorld(featureBranch: string, scripts: Readonly<Record<number, IssueScript>> = {}, semantics: WorldSemantics = {}): SimulatedWorld {
  return { featureBranch, branches: { [featureBranch]: "f0" }, workspaces: {}, pullRequests: {}, scripts, used: {}, shas: 0, contents: { f0: {} }, semantics };
}

export interface Response {
  readonly world: SimulatedWorld;
  readonly events: readonly CoordinatorEvent[];
}

/** The events a runtime would record after executing a world action: the scripted result, recorded as the runtime records it (outcomes.ts). */
export function respond(world: SimulatedWorld, action: WorldAction, at: string): Response {
  const n = action.issue;
  const script = world.scripts[n] ?? {};
  switch (action.type) {
    case "Warm":
      if (action.to !== undefined) {
        return { world, events: outcomeEvents(action, script.move === "fail" ? { ok: false, error: `host ${action.to} does not answer` } : { ok: true, host: action.to }, at) };
      }
      return { world, events: outcomeEvents(action, script.warm === "fail" ? { ok: false, error: "postCreateCommand exited 1" } : { ok: true, host: script.host }, at) };
    case "Launch": {
      const existing = world.branches[action.branch];
      // As the runtime: a first launch, or the one after a reset, makes (or moves back) the branch at its base.
      const first = action.attempt === 1 || action.fresh;
      const baseSha = world.branches[action.base];
      if (first && baseSha === undefined) throw new SimulationError(`launch of #${n} on ${action.base}, which does not exist`);
      const [start, afterTake] = take(world, n, "launch", script.launch, "ok");
      if (start === "unstartable") {
        // As the runtime: no agent, so the branch this first launch would have made is not left on the forge.
        return { world: afterTake, events: outcomeEvents(action, { ok: false, error: "no claude on PATH" }, at) };
      }
      const head = first ? (baseSha ?? "") : (existing ?? world.workspaces[n] ?? "");
      // The runtime checks the worker's workspace out at the forge's head before the agent starts.
      const next = { ...afterTake, branches: { ...world.branches, [action.branch]: head }, workspaces: { ...world.workspaces, [n]: head } };
      return { world: next, events: outcomeEvents(action, { ok: true, baseSha: first ? (baseSha ?? null) : null, headSha: head }, at) };
    }
    case "Push": {
      const current = world.branches[action.branch] ?? null;
      if (current !== action.expectedSha) throw new SimulationError(`push of ${action.branch} expected ${String(action.expectedSha)}, forge has ${String(current)}`);
      return { world: withBranch(world, action.branch, action.headSha), events: outcomeEvents(action, { headSha: action.headSha }, at) };
    }
    case "Verify": {
      const [scripted, used] = take(world, n, "verify", script.verify, "pass");
      const result = scripted === "pass" && treePasses(world.semantics, contentsOf(world, action.headSha)) ? "pass" : "fail";
      const outcome = result === "pass" ? { ok: true as const } : { ok: false as const, command: action.commands[0] ?? "verify", exitCode: 1, outputTail: "1 test failed" };
      return { world: used, events: outcomeEvents(action, outcome, at) };
    }
    case "OpenPullRequest": {
      const pr = world.pullRequests[n] ?? { number: 100 + n, base: action.base, merged: false };
      const next = { ...world, pullRequests: { ...world.pullRequests, [n]: { ...pr, base: action.base } } };
      const headSha = world.branches[action.head] ?? "";
      return { world: next, events: outcomeEvents(action, { pr: pr.number, url: `https://forge.test/pr/${pr.number}`, base: action.base, headSha }, at) };
    }
    case "CheckPullRequest": {
      const [result, used] = take(world, n, "checks", script.checks, "green");
      const conflicting = result === "conflicting";
      return {
        world: used,
        events: outcomeEvents(
          action,
          {
            mergeability: conflicting ? "conflicting" : "mergeable",
            checks: result === "pending" ? "pending" : result === "failing" ? "failure" : "success",
            details: result === "failing" ? ["ci/test"] : result === "pending" ? ["ci/test"] : [],
            conflicts: conflicting ? ["src/shared.ts"] : [],
          },
          at,
        ),
      };
    }
    case "Merge":
      return merge(world, action, at);
    case "CloseIssue":
      return { world, events: outcomeEvents(action, null, at) };
    case "Restack": {
      const [result, used] = take(world, n, "restack", script.restack, "ok");
      if (result === "conflict") {
        return { world: used, events: outcomeEvents(action, { ok: false, paths: ["src/shared.ts"] }, at) };
      }
      const current = world.branches[action.branch] ?? null;
      if (current !== action.expectedSha) throw new SimulationError(`restack of ${action.branch} expected ${String(action.expectedSha)}, forge has ${String(current)}`);
      const [sha, next] = newSha(used, `${n}r`);
      const contents = restacked(n, contentsOf(world, current ?? ""), contentsOf(world, action.ontoSha));
      return { world: withBranch(withContents(next, sha, contents), action.branch, sha), events: outcomeEvents(action, { ok: true, headSha: sha }, at) };
    }
    case "Retarget": {
      const pr = world.pullRequests[n];
      if (pr === undefined) throw new SimulationError(`retarget of #${n}, which has no pull request`);
      return { world: { ...world, pullRequests: { ...world.pullRequests, [n]: { ...pr, base: action.base } } }, events: outcomeEvents(action, null, at) };
    }
    case "VerifyLanding": {
      const tip = world.branches[world.featureBranch] ?? "";
      const [landing, used] = take(world, n, "landing", script.landing, "clean");
      if (landing === "conflict") return { world: used, events: outcomeEvents(action, { ok: "conflict", baseSha: tip, paths: ["src/shared.ts"] }, at) };
      // The cars ahead are merged onto the tip first, in order, as the host's store does it.
      const under = action.ahead.reduce((acc, car) => merged(car.issue, acc, contentsOf(world, car.headSha)), contentsOf(world, tip));
      const contents = merged(n, under, contentsOf(world, action.headSha));
      const tree = treeId(contents);
      // As the runtime does: a head already on the tip lands as its own tree, verified with the branch.
      const branchTree = action.ahead.length === 0 && tree === treeId(contentsOf(world, action.headSha));
      const result = treePasses(world.semantics, contents)
        ? { ok: true as const, baseSha: tip, tree, ...(branchTree ? { branchTree } : {}) }
        : { ok: false as const, baseSha: tip, tree, command: action.commands[0] ?? "verify", exitCode: 1, outputTail: "1 test failed together", underneath: "Issue N (#N)\n src/x.ts | 2 +-" };
      return { world: used, events: outcomeEvents(action, result, at) };
    }
    case "VerifyBase": {
      const tip = world.branches[world.featureBranch] ?? "";
      const outcome = treePasses(world.semantics, contentsOf(world, tip)) ? { ok: true as const } : { ok: false as const, command: action.commands[0] ?? "verify", exitCode: 1, outputTail: "base fails" };
      return { world, events: outcomeEvents(action, { baseSha: tip, ...outcome }, at) };
    }
    case "DeleteBranch": {
      const still = Object.values(world.pullRequests).find((pr) => pr.base === action.branch && !pr.merged);
      // On GitHub this closes the pull request: the coordinator must retarget first.
      if (still !== undefined) throw new SimulationError(`deleting ${action.branch} while pull request #${still.number} targets it`);
      const branches = Object.fromEntries(Object.entries(world.branches).filter(([name]) => name !== action.branch));
      return { world: { ...world, branches }, events: outcomeEvents(action, null, at) };
    }
    // The simulated world has no file contents: every prediction round finds nothing, every message is taken.
    case "PredictConflicts":
      return { world, events: outcomeEvents(action, { found: [], current: [], pairs: 0, ms: 0, error: null }, at) };
    case "TellWorker":
      return { world, events: outcomeEvents(action, { delivered: true }, at) };
    // Simulated agents say nothing while they run: a stall step is always taken, and goes through.
    case "NudgeStalled":
      return { world, events: outcomeEvents(action, { active: false, lastEvent: null, error: null }, at) };
    case "RestartStalled":
      return { world, events: outcomeEvents(action, { active: false, error: null }, at) };
  }
}

/** An agent's run ends: its report (or a limit, or the loss of its container) as the runtime would record it. */
export function finishAgent(
  world: SimulatedWorld,
  agent: { readonly issue: number; readonly attempt: number; readonly why: string; readonly startedAt: string },
  at: string,
  limitUntil: string,
): Response {
  const n = agent.issue;
  const [outcome, used] = take(world, n, "attempts", world.scripts[n]?.attempts, "success");
  const branch = `issue-${String(n)}`;
  const head = used.workspaces[n] ?? used.branches[branch] ?? null;
  const report = (fields: Partial<WorkerReport>): CoordinatorEvent => ({
    type: "Reported",
    at,
    issue: n,
    attempt: agent.attempt,
    report: {
      id: `r-${String(n)}-${String(agent.attempt)}`,
      instance: branch,
      outcome: "success",
      exitCode: 0,
      signal: null,
      branch,
      base: "",
      headSha: head,
      commitsAhead: 1,
      summary: "done",
      blockedReason: null,
      turns: 3,
      costUsd: 0.25,
      sessionId: null,
      startedAt: agent.startedAt,
      endedAt: at,
      ...fields,
    },
  });
  switch (outcome) {
    case "success": {
      if (agent.why === "review") return { world: used, events: [report({})] };
      const [sha, next] = newSha(used, `${n}c`);
      // A retry or rebase is told what is on the feature branch now, and brings it in; a first attempt knows its base only.
      const tip = agent.why === "initial" ? null : contentsOf(world, world.branches[world.featureBranch] ?? "");
      const contents = committed(n, contentsOf(world, head ?? ""), tip);
      return { world: withContents({ ...next, workspaces: { ...next.workspaces, [n]: sha } }, sha, contents), events: [report({ headSha: sha })] };
    }
    case "no-commits":
      return { world: used, events: [report({ commitsAhead: agent.why === "initial" ? 0 : 1 })] };
    case "failure":
      return { world: used, events: [report({ outcome: "failure", exitCode: 1, summary: "tests fail" })] };
    case "crash":
      return { world: used, events: [report({ outcome: "crash", exitCode: null, signal: "SIGKILL" })] };
    case "oom":
      return { world: used, events: [report({ outcome: "oom", exitCode: 137 })] };
    case "blocked":
      return { world: used, events: [report({ outcome: "blocked", exitCode: 0, blockedReason: "needs a database password" })] };
    case "interrupted":
      return { world: used, events: [report({ outcome: "interrupted", exitCode: null, signal: "SIGTERM" })] };
    case "rate-limited":
      return { world: used, events: [{ type: "RateLimited", at, issue: n, attempt: agent.attempt, until: limitUntil, account: "claude", resetsAt: null, message: null }] };
    case "lost":
      return { world: used, events: [{ type: "WorkerLost", at, issue: n, attempt: agent.attempt, reason: "container exited (137)" }] };
  }
}

function merge(world: SimulatedWorld, action: Extract<WorldAction, { type: "Merge" }>, at: string): Response {
  const n = action.issue;
  const pr = world.pullRequests[n];
  if (pr === undefined) throw new SimulationError(`merge of #${n}, which has no pull request`);
  if (pr.base !== world.featureBranch) throw new SimulationError(`merge of #${n} into ${pr.base}, not the feature branch`);
  const made = { pr: pr.number, headSha: action.headSha };
  const ready = mergeReadyEvent(action, made, at);
  const head = world.branches[`issue-${String(n)}`];
  if (head !== action.headSha) {
    return { world, events: [ready, ...outcomeEvents(action, { ...made, merged: false, reason: "head-moved", detail: `head is ${String(head)}`, conflicts: [] }, at)] };
  }
  const tip = world.branches[world.featureBranch] ?? "";
  const contents = merged(n, contentsOf(world, tip), contentsOf(world, action.headSha));
  // As the runtime does before merging: another tree than the verified one on today's tip is verified again.
  const verified = action.verified;
  if (verified !== null && treeId(contents) !== verified.tree) {
    return { world, events: [{ type: "LandingStale", at, issue: n, headSha: action.headSha, epoch: verified.epoch, expectedBaseSha: verified.baseSha, actualBaseSha: tip }] };
  }
  const [squash, afterSha] = newSha(world, `${n}s`);
  const next = withContents(afterSha, squash, contents);
  const landed = {
    ...next,
    branches: { ...next.branches, [world.featureBranch]: squash },
    pullRequests: { ...next.pullRequests, [n]: { ...pr, merged: true } },
  };
  return { world: landed, events: [ready, ...outcomeEvents(action, { ...made, merged: true, squashSha: squash }, at)] };
}

function take<T>(world: SimulatedWorld, n: number, what: string, script: readonly T[] | undefined, otherwise: T): [T, SimulatedWorld] {
  const key = `${String(n)}:${what}`;
  const index = world.used[key] ?? 0;
  return [script?.[index] ?? otherwise, { ...world, used: { ...world.used, [key]: index + 1 } }];
}

function newSha(world: SimulatedWorld, prefix: string): [string, SimulatedWorld] {
  return [`${prefix}${String(world.shas + 1)}`, { ...world, shas: world.shas + 1 }];
}

function withContents(world: SimulatedWorld, sha: string, contents: Contents): SimulatedWorld {
  return { ...world, contents: { ...world.contents, [sha]: contents } };
}

function withBranch(world: SimulatedWorld, branch: string, sha: string): SimulatedWorld {
  return { ...world, branches: { ...world.branches, [branch]: sha } };
}
