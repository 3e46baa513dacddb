import type { BranchMover } from "../../core/branches/port.ts";
import type { LaunchCheckout } from "./prompts.ts";
import type { WorldAction } from "../../core/coordinator/actions.ts";
import type { CoordinatorEvent } from "../../core/coordinator/events.ts";
import type { LaunchStart } from "../../core/coordinator/launch-start.ts";
import { mergeReadyEvent, outcomeEvents } from "../../core/coordinator/outcomes.ts";
import { verifiesLanding } from "../../core/coordinator/queries.ts";
import type { CoordinatorState } from "../../core/coordinator/state.ts";
import { branchOf, whyOf } from "../../core/coordinator/vocabulary.ts";
import { WorkerGoneError, type VerifyOutcome, type WorkerPool } from "../../core/coordinator-runtime/ports.ts";
import { ExternalError } from "../../core/errors.ts";
import { ForgeConflictError, HeadMovedError } from "../../core/forge/errors.ts";
import type { Forge } from "../../core/forge/port.ts";
import { squashMessage } from "../../core/forge/squash-message.ts";
import { predictionRound, tellWorker } from "./predict.ts";
import { nudgeStalled, restartStalled, type StallStepTools } from "./stall-steps.ts";

/** What executing a world action needs: the ports, the current state, and a way to record events durably. */
export interface ExecutionContext {
  readonly forge: Forge;
  readonly branches: BranchMover;
  readonly workers: WorkerPool;
  readonly state: () => CoordinatorState;
  /** Appends and applies; resolves once durable. */
  readonly record: (events: readonly CoordinatorEvent[]) => Promise<void>;
  readonly renderPrompt: (action: Extract<WorldAction, { type: "Launch" }>, checkout: LaunchCheckout) => Promise<string>;
  readonly now: () => string;
  readonly notice: (text: string) => void;
  /** Fires when the action is no longer wanted (its issue was skipped): a verify ends its command. */
  readonly signal?: AbortSignal | undefined;
  /** How long a verify command may run (`verify.timeout`) before it is ended and counted as failed. */
  readonly verifyTimeout?: VerifyTimeout | undefined;
  /** For stall steps: a look at the agent first, and the nudge's text (stall-steps.ts); absent: steps are taken blind. */
  readonly stalls?: StallStepTools | undefined;
}

/** `verify.timeout`, in milliseconds and as the user wrote it (for the reason). */
export interface VerifyTimeout {
  readonly ms: number;
  readonly text: string;
}

/**
 * Carries out one world action: each checks the world first (the branch is
 * there, the pull request is open or merged), so repeating one after a crash
 * is harmless, and ends by recording its outcome (core/coordinator/outcomes.ts
 * turns what it found out into events, as the simulated world does).
 */
export async function executeWorldAction(context: ExecutionContext, action: WorldAction): Promise<void> {
  const { forge, branches, workers, record } = context;
  const at = context.now;
  const n = action.issue;
  switch (action.type) {
    case "Warm": {
      const outcome = await workers.warm({ issue: n, instance: action.instance, base: action.base, to: action.to });
      await record(outcomeEvents(action, outcome, at()));
      return;
    }
    case "Launch":
      return launch(context, action);
    case "Push": {
      let pushed = action.headSha;
      const instance = `issue-${String(n)}`;
      let collected: { readonly repository: string; readonly sha: string } | undefined;
      try {
        // A remote worker's branch comes back over its engine first; a local checkout is read by the mover itself.
        collected = (await workers.collect?.(instance, action.branch, { signal: context.signal, waiting: context.notice })) ?? undefined;
      } catch (error) {
        if (!(error instanceof WorkerGoneError)) throw error;
        // Nothing else holds those commits: the issue is relaunched where a host answers (fold-lost-work.ts).
        await record([{ type: "ReportedWorkLost", at: at(), issue: n, headSha: action.headSha, reason: error.message }]);
        return;
      }
      try {
        pushed = await branches.push({ instance, branch: action.branch, expectedRemoteSha: action.expectedSha, collected });
      } catch (error) {
        // Pushed before a crash, not yet recorded: the forge already has this head.
        if (!(error instanceof HeadMovedError && error.actualSha === action.headSha)) throw error;
      }
      await record(outcomeEvents(action, { headSha: pushed }, at()));
      return;
    }
    case "Verify": {
      const outcome = action.commands.length === 0 ? { ok: true as const } : await verifyWithin(context, action);
      await record(outcomeEvents(action, outcome, at()));
      return;
    }
    case "VerifyLanding":
      return verifyLanding(context, action);
    case "VerifyBase": {
      const tip = (await branches.fetch([action.branch])).get(action.branch) ?? null;
      if (tip === null) throw new ExternalError(`the feature branch ${action.branch} is not on the forge`);
      const outcome = await verifyWithin(context, { issue: n, instance: action.instance, headSha: tip, commands: action.commands }, true);
      await record(outcomeEvents(action, { baseSha: tip, ...outcome }, at()));
      return;
    }
    case "OpenPullRequest": {
      const existing = await forge.findPullRequest(action.head);
      const body = pullRequestBody(n, action.dependencies);
      let pr = existing !== null && existing.state !== "closed" ? existing : await forge.openPullRequest({ head: action.head, base: action.base, title: action.title, body });
      if (pr.state === "open" && pr.base !== action.base) pr = await forge.retargetPullRequest(pr.number, action.base);
      await record(outcomeEvents(action, { pr: pr.number, url: pr.url, base: pr.base, headSha: pr.headSha }, at()));
      return;
    }
    case "CheckPullRequest": {
      const [pr, checks] = await Promise.all([forge.getPullRequest(action.pr), forge.checksFor(action.headSha)]);
      await record(outcomeEvents(action, { mergeability: pr.mergeability, checks: checks.state, details: checks.details, conflicts: pr.conflicts }, at()));
      return;
    }
    case "Merge":
      return merge(context, action);
    case "CloseIssue": {
      const issue = await forge.getIssue(n);
      if (issue.state === "open") await forge.closeIssue(n);
      await record(outcomeEvents(action, null, at()));
      return;
    }
    case "Restack": {
      await branches.fetch([action.branch, action.onto]);
      // Without the old parent head the squash itself is the best lower bound the port can take.
      const result = await branches.restack({ branch: action.branch, oldParentHead: action.from ?? action.ontoSha, onto: action.ontoSha });
      await record(outcomeEvents(action, result.ok ? { ok: true, headSha: result.sha } : { ok: false, paths: result.conflicts }, at()));
      return;
    }
    case "Retarget": {
      const pr = await forge.getPullRequest(action.pr);
      if (pr.state === "open" && pr.base !== action.base) await forge.retargetPullRequest(action.pr, action.base);
      await record(outcomeEvents(action, null, at()));
      return;
    }
    case "DeleteBranch": {
      try {
        await forge.deleteBranch(action.branch, { expectedSha: action.expectedSha });
      } catch (error) {
        // Someone pushed to it since the run last moved it: their work stays; the run no longer needs the branch.
        if (!(error instanceof HeadMovedError)) throw error;
        context.notice(`${action.branch} moved since cspace last pushed it; left in place (${error.message})`);
      }
      await record(outcomeEvents(action, null, at()));
      return;
    }
    case "PredictConflicts":
      return predictionRound(context, action);
    case "TellWorker":
      return tellWorker(context, action);
    case "NudgeStalled":
      return nudgeStalled(context, action);
    case "RestartStalled":
      return restartStalled(context, action);
  }
}

/** Longest delay setTimeout takes; a longer one would fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The verify commands, ended by the pool when they run past `verify.timeout`
 * (a failed verify whose reason says so: the agent gets another attempt, as
 * for any failed verify) or when the issue is skipped (nothing is recorded:
 * the action was stopped).
 */
async function verifyWithin(
  context: ExecutionContext,
  action: Pick<Extract<WorldAction, { type: "Verify" }>, "issue" | "instance" | "headSha" | "commands">,
  detached = false,
): Promise<VerifyOutcome> {
  const timeout = context.verifyTimeout;
  const timer = new AbortController();
  const reason = timeout === undefined ? "" : `verify timed out after ${timeout.text}`;
  const handle = timeout === undefined ? undefined : setTimeout(() => { timer.abort(new Error(reason)); }, Math.min(timeout.ms, MAX_TIMER_MS));
  const signal = context.signal === undefined ? timer.signal : AbortSignal.any([context.signal, timer.signal]);
  try {
    const outcome = await context.workers.verify({ issue: action.issue, instance: action.instance, headSha: action.headSha, commands: action.commands, signal, detached });
    context.signal?.throwIfAborted();
    if (timer.signal.aborted && !outcome.ok) return { ...outcome, exitCode: null, outputTail: reason };
    return outcome;
  } finally {
    clearTimeout(handle);
  }
}

/**
 * The tree that would land, verified: the head merged into the feature
 * branch's tip in the host's store, that commit checked out detached in the
 * issue's worker, the verify commands run on it.
 */
async function verifyLanding(context: ExecutionContext, action: Extract<WorldAction, { type: "VerifyLanding" }>): Promise<void> {
  const issues = context.state().issues;
  const ahead = action.ahead.map((car) => ({ head: car.headSha, label: `#${String(car.issue)} ${issues[car.issue]?.title ?? ""}`.trim() }));
  const prepared = await context.branches.prepareLanding({ base: action.base, headBranch: action.instance, head: action.headSha, since: action.since, ahead });
  if (!prepared.ok) {
    await context.record(outcomeEvents(action, { ok: "conflict", baseSha: prepared.baseSha, paths: prepared.conflicts }, context.now()));
    return;
  }
  const { baseSha, tree } = prepared;
  // A head that already sits on the tip (restacked onto a parent's squash, or rebased there) lands as its own tree,
  // whose verification the merge gate already required: a stacked branch's verification is its landing's.
  if (action.ahead.length === 0 && (await context.branches.treeOf(action.headSha)) === tree) {
    await context.record(outcomeEvents(action, { ok: true, baseSha, tree, branchTree: true }, context.now()));
    return;
  }
  const outcome = await verifyWithin(context, { issue: action.issue, instance: action.instance, headSha: prepared.commit, commands: action.commands }, true);
  const result = outcome.ok ? { ok: true as const, baseSha, tree } : { ...outcome, baseSha, tree, underneath: prepared.underneath };
  await context.record(outcomeEvents(action, result, context.now()));
}

async function launch(context: ExecutionContext, action: Extract<WorldAction, { type: "Launch" }>): Promise<void> {
  const { forge, workers } = context;
  // A first launch, or the launch after the operator's reset: `issue-N` is made, or moved back, at its base's head now.
  const first = action.attempt === 1 || action.fresh;
  let baseSha: string | null = null;
  let head = await forge.branchHead(action.branch);
  let created = false;
  let start: LaunchStart | undefined;
  let earlierWork: LaunchCheckout["earlierWork"] = null;
  if (first) {
    baseSha = await forge.branchHead(action.base);
    if (baseSha === null) throw new ExternalError(`the base branch ${action.base} of #${String(action.issue)} is not on the forge`);
    if (head === null) {
      await forge.createBranch(action.branch, baseSha);
      head = baseSha;
      created = true;
      start = { kind: "new", commits: 0 };
    } else {
      // A branch already there: an earlier run's, or this launch's own, repeated after a crash (made at an older base, nothing on it).
      const carried = await carryOver(context, action, head, baseSha);
      head = carried.head;
      start = carried.start;
      earlierWork = carried.earlierWork;
    }
  }
  // The store is every checkout's `origin`: what the agent will build on or rebase onto is fetched from the
  // forge first, so `origin/<base>` is the forge's now (a warm refreshes the store from the user's checkout).
  const onto = action.prompt.kind === "rebase" ? [action.prompt.onto] : [];
  await context.branches.fetch([...new Set([action.base, ...onto])]);
  const prompt = await context.renderPrompt(action, await checkoutOf(context, action, head, earlierWork));
  // Skipped while this launch prepared: no agent is started, and the branch it made goes (as for an agent that cannot start).
  if (context.signal?.aborted === true) {
    if (created && baseSha !== null) await dropCreatedBranch(context, action.branch, baseSha);
    context.signal.throwIfAborted();
  }
  const outcome = await workers.launch({
    runId: context.state().run?.runId ?? "",
    issue: action.issue,
    instance: action.instance,
    branch: action.branch,
    base: action.base,
    baseSha: baseSha ?? context.state().issues[action.issue]?.baseSha ?? null,
    headSha: head,
    attempt: action.attempt,
    why: whyOf(action.prompt),
    prompt,
    // After a reset the agent starts anew in the worker: no session of the discarded work, its commits counted from the new base.
    fresh: action.fresh && action.attempt > 1,
  });
  // Skipped while the agent started: the skip's interrupt may have come before there was an agent to stop, so this
  // launch stops what it started (interrupting twice is harmless) and records nothing.
  if (outcome.ok && context.signal?.aborted === true) {
    await workers.interrupt(action.instance).catch((error: unknown) => { context.notice(`interrupting ${action.instance}: ${messageOf(error)}`); });
    context.signal.throwIfAborted();
  }
  // No agent started on the branch this launch made: it goes (at the sha it was made at), so an issue that never
  // starts leaves nothing on the forge; the next launch makes it again.
  if (!outcome.ok && created && baseSha !== null) await dropCreatedBranch(context, action.branch, baseSha);
  await context.record(outcomeEvents(action, outcome.ok ? { ok: true, baseSha, headSha: head, start } : outcome, context.now()));
}

/** How many of an earlier run's commits are looked at: more than this is not replayed, only kept (and named as kept). */
const EARLIER_COMMITS = 100;
/** How many of a stacked parent's commits the prompt lists. */
const PARENT_COMMITS = 20;

/**
 * An `issue-N` that exists at an issue's first launch in this run. With
 * `fresh`, or with nothing of its own on it, it is moved back to the base.
 * Otherwise its own commits (those the base does not reach) are replayed onto
 * the base, as a restack does, so the agent starts from the current base with
 * the earlier work on top; when the replay conflicts (or there is too much to
 * replay) the branch is left as it is, and the progress line and the prompt
 * say so. The worker's checkout follows: the launch brings it to `head`.
 */
async function carryOver(
  context: ExecutionContext,
  action: Extract<WorldAction, { type: "Launch" }>,
  head: string,
  baseSha: string,
): Promise<{ readonly head: string; readonly start: LaunchStart; readonly earlierWork: LaunchCheckout["earlierWork"] }> {
  const { forge, branches } = context;
  if (head === baseSha) return { head, start: { kind: "new", commits: 0 }, earlierWork: null };
  await branches.fetch([action.branch, action.base]);
  const own = await branches.commitsBetween({ base: baseSha, head, limit: EARLIER_COMMITS });
  if (action.fresh || own.length === 0) {
    await forge.moveBranch(action.branch, baseSha, { expectedSha: head, force: true });
    await branches.fetch([action.branch]);
    return { head: baseSha, start: { kind: own.length === 0 ? "new" : "fresh", commits: own.length }, earlierWork: null };
  }
  const oldest = own[own.length - 1];
  if (own.length < EARLIER_COMMITS && oldest?.parent != null) {
    const replayed = await branches.restack({ branch: action.branch, oldParentHead: oldest.parent, onto: baseSha });
    if (replayed.ok) {
      const commits = await branches.commitsBetween({ base: baseSha, head: replayed.sha, limit: EARLIER_COMMITS });
      return { head: replayed.sha, start: { kind: "restacked", commits: commits.length }, earlierWork: { commits, restacked: true } };
    }
    context.notice(`${action.branch} from an earlier run conflicts with ${action.base} in ${replayed.conflicts.join(", ")}: left as it was`);
  }
  return { head, start: { kind: "kept", commits: own.length }, earlierWork: { commits: own, restacked: false } };
}

/** What the prompt says is in the checkout: the commit it starts from, and a stacked parent's verified commits. */
async function checkoutOf(
  context: ExecutionContext,
  action: Extract<WorldAction, { type: "Launch" }>,
  head: string | null,
  earlierWork: LaunchCheckout["earlierWork"],
): Promise<LaunchCheckout> {
  const feature = context.state().run?.settings.featureBranch ?? null;
  if (!action.stacked || feature === null || (action.attempt !== 1 && !action.fresh)) return { startSha: head, baseCommits: [], earlierWork };
  const baseCommits = await context.branches.commitsBetween({ base: feature, head: action.base, limit: PARENT_COMMITS });
  return { startSha: head, baseCommits, earlierWork };
}

async function dropCreatedBranch(context: ExecutionContext, branch: string, baseSha: string): Promise<void> {
  await context.forge.deleteBranch(branch, { expectedSha: baseSha }).catch((error: unknown) => {
    context.notice(`${branch} was left on the forge: ${messageOf(error)}`);
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function merge(context: ExecutionContext, action: Extract<WorldAction, { type: "Merge" }>): Promise<void> {
  const { forge, record } = context;
  const n = action.issue;
  const recorded = context.state().issues[n]?.merge ?? null;
  const headSha = recorded?.headSha ?? action.headSha;
  const pr = recorded?.pr ?? action.pr;
  const feature = context.state().run?.settings.featureBranch;
  const verified = action.verified;
  if (recorded === null && verified !== null && feature !== undefined && !(await landsAsVerified(context, action, feature, verified))) return;
  // The head and what is stacked on it are durable before the base moves: a restack after a crash knows where each branch began.
  if (recorded === null) await record([mergeReadyEvent(action, { pr, headSha }, context.now())]);
  const current = await forge.getPullRequest(pr);
  const merged = (squashSha: string): Promise<void> => record(outcomeEvents(action, { pr, headSha, merged: true, squashSha }, context.now()));
  const refused = (reason: "conflicting" | "checks" | "head-moved" | "closed", detail: string, conflicts: readonly string[] = []): Promise<void> =>
    record(outcomeEvents(action, { pr, headSha, merged: false, reason, detail, conflicts }, context.now()));
  if (current.state === "merged" && current.mergeSha !== null) {
    await merged(current.mergeSha);
  } else if (current.state === "closed") {
    await refused("closed", `pull request #${String(pr)} was closed`);
  } else {
    try {
      // Local pull requests are numbered apart from issues: their squash titles name the issue (squash-message.ts).
      const numbering = forge.repo === null ? "local" : "github";
      const words = squashMessage({ title: action.title, number: pr, head: branchOf(n), base: feature ?? current.base, issue: n, numbering });
      const { sha } = await forge.squashMerge(pr, { expectedHeadSha: headSha, ...words });
      await merged(sha);
    } catch (error) {
      if (error instanceof HeadMovedError) await refused("head-moved", error.message);
      else if (error instanceof ForgeConflictError) await refused("conflicting", error.message, error.paths);
      else throw error;
    }
  }
  // The squash must be in the host's store before anything is restacked onto it.
  if (feature !== undefined) await context.branches.fetch([feature]);
  const landing = verifiesLanding(context.state()) ? (context.state().issues[n]?.landing ?? null) : null;
  if (landing?.tree != null && landing.headSha === headSha) await compareLanded(context, n, landing.tree);
}

/**
 * A verification holds for the tree a merge makes: the head merged into the
 * feature branch's tip as it is now must make the verified tree (the tip is
 * the one verified, or the train's cars ahead merged onto it since). When
 * someone else moved the tip, it does not: `LandingStale`, and it is
 * verified again first.
 */
async function landsAsVerified(context: ExecutionContext, action: Extract<WorldAction, { type: "Merge" }>, feature: string, verified: NonNullable<Extract<WorldAction, { type: "Merge" }>["verified"]>): Promise<boolean> {
  const tip = (await context.branches.fetch([feature])).get(feature) ?? null;
  if (tip === verified.baseSha) return true;
  const instance = branchOf(action.issue);
  const now = tip === null ? null : await context.branches.prepareLanding({ base: feature, headBranch: instance, head: action.headSha, since: null });
  if (now?.ok === true && now.tree === verified.tree) return true;
  const stale = { type: "LandingStale", at: context.now(), issue: action.issue, headSha: action.headSha, epoch: verified.epoch, expectedBaseSha: verified.baseSha, actualBaseSha: tip } as const;
  await context.record([stale]);
  return false;
}

/**
 * The squash commit's tree must be the tree that was verified (on GitHub the
 * merge names only the head: the base could have moved under it). When they
 * differ the run stops merging (`LandingMismatched`); when the tree cannot
 * be read, people are told.
 */
async function compareLanded(context: ExecutionContext, n: number, verifiedTree: string): Promise<void> {
  const squashSha = context.state().issues[n]?.merge?.squashSha ?? null;
  if (squashSha === null) return;
  const squashTree = await context.branches.treeOf(squashSha);
  if (squashTree === null) {
    context.notice(`#${String(n)}'s squash commit ${squashSha.slice(0, 8)} is not in the host's store: its tree could not be compared with the verified one`);
    return;
  }
  if (squashTree !== verifiedTree) await context.record([{ type: "LandingMismatched", at: context.now(), issue: n, squashSha, squashTree, verifiedTree }]);
}

export function pullRequestBody(issue: number, dependencies: readonly number[]): string {
  const lines = [`Closes #${String(issue)}`];
  if (dependencies.length > 0) lines.push("", `Builds on ${dependencies.map((d) => `#${String(d)}`).join(", ")}.`);
  lines.push("", "Opened by `cspace coordinate`.");
  return lines.join("\n");
}
