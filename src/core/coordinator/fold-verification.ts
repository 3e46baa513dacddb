import { z } from "zod";
import { defineEvent, eventGroup } from "./event-registry.ts";
import { carsAhead, currentLanding, tipVerdict } from "./queries.ts";
import type { CoordinatorState, IssueRecord, LandingRecord } from "./state.ts";
import { updateIssue, updateLastAttempt } from "./update.ts";
import type { Failure, TrainCar } from "./vocabulary.ts";
import { count, issueNumber, list, text } from "./vocabulary-schemas.ts";

/**
 * Only verified trees land: the verification of the tree a merge would make
 * (the pull request's head merged into the feature branch's tip, after
 * `epoch` merges), of the tip alone, and what a merge found (see
 * rules-verification.ts for the rules that read them; event-registry.ts for
 * how an event is declared).
 *
 * A combined tree that fails is the branch's failure only if the branch alone
 * passed (the verify gate comes first) and the tip alone passes: the tip is
 * verified once (`BaseVerified`), and until then the failure waits, so a red
 * or flaky feature branch burns no issue's attempts.
 */

const sha = text;
const trainCar = z.object({ issue: issueNumber, headSha: sha });
/** `ahead`: the train's cars merged onto the tip before this head (absent in logs from before trains: none). */
const landingFields = { issue: issueNumber, headSha: sha, epoch: count, baseSha: sha, ahead: list(trainCar).optional() };

export const verificationEvents = eventGroup(
  /**
   * The head merged into the tip (`tree`) passed verify in the issue's worker; `branchTree`: the tree is the head's
   * own (it already sits on the tip: restacked or rebased there), whose verification passed, so none ran again.
   */
  defineEvent("LandingVerified", {
    version: 1,
    fields: z.object({ ...landingFields, tree: sha, branchTree: z.boolean().optional() }),
    line: (event) =>
      `#${String(event.issue)} verified on the feature branch at ${short(event.baseSha)}${plus(event)} (tree ${short(event.tree)}${event.branchTree === true ? ": the branch's own, verified already" : ""})`,
    apply: (state, event) => withLanding(state, event, (record) => ({ ...record, landing: landing(event, { tree: event.tree, result: "passed" }) })),
  }),
  /** The head merged into the tip failed verify; `underneath`: the merges since the branch's base (titles and `--stat`). */
  defineEvent("LandingFailed", {
    version: 1,
    fields: z.object({ ...landingFields, tree: sha, command: text, exitCode: z.number().int().nullable(), outputTail: text, underneath: text }),
    line: (event) =>
      `#${String(event.issue)} failed on the feature branch at ${short(event.baseSha)}${plus(event)}: ${event.command} ${event.exitCode === null ? "did not finish" : `exited ${String(event.exitCode)}`}`,
    apply: (state, event) =>
      withLanding(state, event, (record) => {
        const failed = { ...record, landing: landing(event, { tree: event.tree, result: "failed", command: event.command, exitCode: event.exitCode, outputTail: event.outputTail, underneath: event.underneath }) };
        // Judged at once when it is on the tip (no car ahead of it left) and the tip alone is known to pass; otherwise
        // once the tip is verified (BaseVerified) or the cars ahead have merged (Merged: judgeLandings).
        return tipVerdict(state)?.passed === true && currentLanding(state, failed) !== null ? blamed(state, failed) : failed;
      }),
  }),
  /** The head does not merge into the tip: as if the forge called the pull request conflicting (a rebase follows). */
  defineEvent("LandingConflicted", {
    version: 1,
    fields: z.object({ ...landingFields, paths: list(text) }),
    line: (event) => `#${String(event.issue)} conflicts with the feature branch at ${short(event.baseSha)}${plus(event, false)} in ${event.paths.join(", ")}`,
    apply: (state, event) =>
      withLanding(state, event, (record) => {
        const conflicted: IssueRecord = { ...record, landing: landing(event, { tree: null, result: "conflicted", conflicts: event.paths }) };
        // With cars ahead, it waits for them to merge (meetConflicts), then is conflicting on the tip it meets.
        return currentLanding(state, conflicted) === null ? conflicted : conflictMet(state, conflicted, event.at);
      }),
  }),
  /** The feature branch alone, verified at its tip after `epoch` merges: once per tip. */
  defineEvent("BaseVerified", {
    version: 1,
    fields: z.object({ epoch: count, branch: text, baseSha: sha, passed: z.boolean(), command: text.nullable(), exitCode: z.number().int().nullable(), outputTail: text.nullable() }),
    line: (event) =>
      event.passed
        ? `${event.branch} passes verify at ${short(event.baseSha)}`
        : `${event.branch} is red at ${short(event.baseSha)}: every candidate would fail (${event.command ?? "verify"} ${event.exitCode === null ? "did not finish" : `exited ${String(event.exitCode)}`})`,
    apply: (state, event) => {
      if (state.tips?.[event.epoch] !== undefined) return state;
      const { epoch, baseSha, passed, command, exitCode, outputTail } = event;
      const next: CoordinatorState = { ...state, tips: { ...state.tips, [epoch]: { epoch, sha: baseSha, passed, command, exitCode, outputTail } } };
      return !passed || epoch !== state.epoch ? next : judgeLandings(next);
    },
  }),
  /** Before merging, the head merged into the feature branch's tip was not the verified tree (someone else pushed): verified again. */
  defineEvent("LandingStale", {
    version: 1,
    fields: z.object({ issue: issueNumber, headSha: sha, epoch: count, expectedBaseSha: sha, actualBaseSha: sha.nullable() }),
    line: (event) =>
      `#${String(event.issue)} not merged: on the feature branch at ${short(event.actualBaseSha ?? "nothing")} it would not make the tree verified at ${short(event.expectedBaseSha)}; verifying again`,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) => {
        if (record.landing?.baseSha !== event.expectedBaseSha || record.landing.headSha !== event.headSha) return record;
        return { ...record, landing: null };
      }),
  }),
  /** The squash commit's tree is not the tree that was verified: cspace stops merging (rules-verification.ts). */
  defineEvent("LandingMismatched", {
    version: 1,
    fields: z.object({ issue: issueNumber, squashSha: sha, squashTree: sha, verifiedTree: sha }),
    line: (event) =>
      `STOP: #${String(event.issue)} landed as ${short(event.squashSha)} with tree ${short(event.squashTree)}, but the verified tree was ${short(event.verifiedTree)}: cspace merges nothing more`,
    apply: (state, event) =>
      state.landingMismatch !== undefined
        ? state
        : { ...state, landingMismatch: { issue: event.issue, squashSha: event.squashSha, squashTree: event.squashTree, verifiedTree: event.verifiedTree } },
  }),
);

/**
 * The tip alone passes: each combined tree that failed on it (its cars ahead,
 * if any, merged) is its branch's failure.
 */
export function judgeLandings(state: CoordinatorState): CoordinatorState {
  let judged = state;
  for (const record of Object.values(state.issues)) {
    const current = currentLanding(state, record);
    if (current?.result === "failed" && !current.blamed) judged = updateIssue(judged, record.number, (r) => blamed(judged, r));
  }
  return judged;
}

/** After a merge: a car whose cars ahead have all merged, and whose head conflicted on them, conflicts with the tip now. */
export function meetConflicts(state: CoordinatorState, at: string): CoordinatorState {
  let met = state;
  for (const record of Object.values(state.issues)) {
    const current = currentLanding(state, record);
    const check = record.check;
    const seen = check !== null && check.headSha === record.pushedSha && check.epoch === state.epoch && check.mergeability === "conflicting";
    if (current?.result === "conflicted" && !seen) met = updateIssue(met, record.number, (r) => conflictMet(met, r, at));
  }
  return met;
}

/** The head does not merge into the tip: as if the forge called the pull request conflicting (a rebase follows). */
function conflictMet(state: CoordinatorState, record: IssueRecord, at: string): IssueRecord {
  const headSha = record.pushedSha ?? "";
  const paths = record.landing?.conflicts ?? [];
  const checks = record.check?.headSha === headSha ? record.check.checks : "none";
  const next: IssueRecord = { ...record, check: { at, headSha, epoch: state.epoch, mergeability: "conflicting", checks, details: [], conflicts: paths } };
  // As when the forge says so (fold-integration.ts): still conflicting on a head made since a rebase was asked for, with no merge in between.
  if (record.rebase?.epoch !== state.epoch || record.rebase.headSha === headSha) return next;
  const failure: Failure = { kind: "agent-exit", summary: "the pull request is still conflicting after the rebase", command: null, output: paths.join("\n") || null };
  return updateLastAttempt(next, (attempt) => (attempt.end === "succeeded" && attempt.failure === null ? { ...attempt, failure } : attempt));
}

type LandingEvent = { readonly issue: number; readonly headSha: string; readonly epoch: number; readonly baseSha: string; readonly ahead?: readonly TrainCar[] | undefined };

function landing(event: LandingEvent, fields: Partial<LandingRecord> & Pick<LandingRecord, "tree" | "result">): LandingRecord {
  return {
    epoch: event.epoch,
    headSha: event.headSha,
    baseSha: event.baseSha,
    command: null,
    exitCode: null,
    outputTail: null,
    underneath: null,
    blamed: false,
    ...(event.ahead !== undefined && event.ahead.length > 0 ? { ahead: event.ahead } : {}),
    ...fields,
  };
}

/**
 * Applies a landing result only while it is about the branch's head and a tip
 * still coming (the merges since are its cars ahead, in order), and no result
 * already holds on today's tip; a late one says nothing.
 */
function withLanding(state: CoordinatorState, event: LandingEvent, update: (record: IssueRecord) => IssueRecord): CoordinatorState {
  return updateIssue(state, event.issue, (record) =>
    record.pushedSha !== event.headSha || carsAhead(state, event) === null || currentLanding(state, record) !== null ? record : update(record),
  );
}

/** " after #11, #12": the train's cars merged onto the tip before this head (merged since). */
function mergedOnto(ahead: readonly TrainCar[] | undefined): string {
  return ahead === undefined || ahead.length === 0 ? "" : ` after ${ahead.map((car) => `#${String(car.issue)}`).join(", ")}`;
}

/** " + #11 + #12" for a car behind #11: what was merged onto the tip, in order. */
function plus(event: LandingEvent, own = true): string {
  const cars = [...(event.ahead ?? []).map((car) => car.issue), ...(own ? [event.issue] : [])];
  return cars.map((n) => ` + #${String(n)}`).join("");
}

/**
 * Counts the combined tree's failure against the branch's newest attempt, with
 * what changed underneath for the retry prompt. Only an attempt that ended
 * well produced the work judged (as for any verify failure).
 */
function blamed(state: CoordinatorState, record: IssueRecord): IssueRecord {
  const current = record.landing;
  if (current == null || current.blamed) return record;
  const feature = state.run?.settings.featureBranch ?? "the feature branch";
  const command = current.command ?? "verify";
  const e2e = command === state.run?.settings.verify.e2e && command !== state.run.settings.verify.all;
  const ran = current.exitCode === null ? "did not finish" : `exited ${String(current.exitCode)}`;
  const failure: Failure = {
    kind: e2e ? "e2e" : "verify",
    summary:
      `${command} ${ran} on ${record.branch} merged into ${feature} at ${short(current.baseSha)}${mergedOnto(current.ahead)}, though ${record.branch} alone passed and ${feature} alone passes: ` +
      `something merged into ${feature} since your branch's base and your change break each other. Bring ${feature} into your branch ` +
      `(git fetch origin ${feature}, then rebase or merge origin/${feature}), make it pass there, and commit.`,
    command,
    output: [`What changed underneath (merged into ${feature} since your branch's base):`, current.underneath ?? "(unknown)", "", "The verify output on the combined tree:", current.outputTail ?? ""].join("\n"),
  };
  const next = { ...record, landing: { ...current, blamed: true } };
  return updateLastAttempt(next, (attempt) => (attempt.end === "succeeded" && attempt.failure === null ? { ...attempt, failure } : attempt));
}

function short(value: string): string {
  return value.slice(0, 7);
}
