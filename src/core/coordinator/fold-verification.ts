import { z } from "zod";
import { defineEvent, eventGroup } from "./event-registry.ts";
import { currentLanding, tipVerdict } from "./queries.ts";
import type { CoordinatorState, IssueRecord, LandingRecord } from "./state.ts";
import { updateIssue, updateLastAttempt } from "./update.ts";
import type { Failure } from "./vocabulary.ts";
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
const landingFields = { issue: issueNumber, headSha: sha, epoch: count, baseSha: sha };

export const verificationEvents = eventGroup(
  /** The head merged into the tip (`tree`) passed verify in the issue's worker. */
  defineEvent("LandingVerified", {
    version: 1,
    fields: z.object({ ...landingFields, tree: sha }),
    line: (event) => `#${String(event.issue)} verified on the feature branch at ${short(event.baseSha)} + #${String(event.issue)} (tree ${short(event.tree)})`,
    apply: (state, event) => withLanding(state, event.issue, event.headSha, event.epoch, (record) => ({ ...record, landing: landing(event, { tree: event.tree, result: "passed" }) })),
  }),
  /** The head merged into the tip failed verify; `underneath`: the merges since the branch's base (titles and `--stat`). */
  defineEvent("LandingFailed", {
    version: 1,
    fields: z.object({ ...landingFields, tree: sha, command: text, exitCode: z.number().int().nullable(), outputTail: text, underneath: text }),
    line: (event) =>
      `#${String(event.issue)} failed on the feature branch at ${short(event.baseSha)} + #${String(event.issue)}: ${event.command} ${event.exitCode === null ? "did not finish" : `exited ${String(event.exitCode)}`}`,
    apply: (state, event) =>
      withLanding(state, event.issue, event.headSha, event.epoch, (record) => {
        const failed = { ...record, landing: landing(event, { tree: event.tree, result: "failed", command: event.command, exitCode: event.exitCode, outputTail: event.outputTail, underneath: event.underneath }) };
        // Judged at once when the tip alone is known to pass; otherwise once it is verified (BaseVerified).
        return tipVerdict(state)?.passed === true ? blamed(state, failed) : failed;
      }),
  }),
  /** The head does not merge into the tip: as if the forge called the pull request conflicting (a rebase follows). */
  defineEvent("LandingConflicted", {
    version: 1,
    fields: z.object({ ...landingFields, paths: list(text) }),
    line: (event) => `#${String(event.issue)} conflicts with the feature branch at ${short(event.baseSha)} in ${event.paths.join(", ")}`,
    apply: (state, event) =>
      withLanding(state, event.issue, event.headSha, event.epoch, (record) => {
        const next: IssueRecord = {
          ...record,
          landing: landing(event, { tree: null, result: "conflicted" }),
          check: {
            at: event.at,
            headSha: event.headSha,
            epoch: event.epoch,
            mergeability: "conflicting",
            checks: record.check?.headSha === event.headSha ? record.check.checks : "none",
            details: [],
            conflicts: event.paths,
          },
        };
        // As when the forge says so (fold-integration.ts): still conflicting on a head made since a rebase was asked for, with no merge in between.
        if (record.rebase?.epoch !== event.epoch || record.rebase.headSha === event.headSha) return next;
        const failure: Failure = { kind: "agent-exit", summary: "the pull request is still conflicting after the rebase", command: null, output: event.paths.join("\n") || null };
        return updateLastAttempt(next, (attempt) => (attempt.end === "succeeded" && attempt.failure === null ? { ...attempt, failure } : attempt));
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
      if (!passed || epoch !== state.epoch) return next;
      // The tip alone passes: a combined tree that failed on it is the branch's failure.
      let judged = next;
      for (const record of Object.values(next.issues)) {
        const current = currentLanding(next, record);
        if (current?.result === "failed" && !current.blamed) judged = updateIssue(judged, record.number, (r) => blamed(judged, r));
      }
      return judged;
    },
  }),
  /** Before merging, the feature branch was found elsewhere than the verified tip (someone else pushed): verified again. */
  defineEvent("LandingStale", {
    version: 1,
    fields: z.object({ issue: issueNumber, headSha: sha, epoch: count, expectedBaseSha: sha, actualBaseSha: sha.nullable() }),
    line: (event) => `#${String(event.issue)} not merged: the feature branch moved from the verified ${short(event.expectedBaseSha)} to ${short(event.actualBaseSha ?? "nothing")}; verifying again`,
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

type LandingEvent = { readonly headSha: string; readonly epoch: number; readonly baseSha: string };

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
    ...fields,
  };
}

/** Applies a landing result only while it is about the branch's head and the current tip; a late one says nothing. */
function withLanding(state: CoordinatorState, n: number, headSha: string, epoch: number, update: (record: IssueRecord) => IssueRecord): CoordinatorState {
  return updateIssue(state, n, (record) => (record.pushedSha !== headSha || epoch !== state.epoch || currentLanding(state, record) !== null ? record : update(record)));
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
      `${command} ${ran} on ${feature} at ${short(current.baseSha)} merged with ${record.branch}, though ${record.branch} alone passed and ${feature} alone passes: ` +
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
