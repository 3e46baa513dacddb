import type {
  BranchDeleted,
  IssueClosed,
  Merged,
  MergeReady,
  MergeRefused,
  PullRequestChecked,
  PullRequestOpened,
  Pushed,
  Restacked,
  RestackConflicted,
  Retargeted,
  Verified,
  VerifyFailed,
} from "./events.ts";
import { isMerged } from "./queries.ts";
import type { CoordinatorState, IssueRecord } from "./state.ts";
import { updateIssue, updateLastAttempt } from "./update.ts";
import type { Failure } from "./vocabulary.ts";

type IntegrationEvent =
  | Pushed
  | Verified
  | VerifyFailed
  | PullRequestOpened
  | PullRequestChecked
  | MergeReady
  | Merged
  | MergeRefused
  | IssueClosed
  | Restacked
  | RestackConflicted
  | Retargeted
  | BranchDeleted;

/** Branches, verification, pull requests, merges and stacks. */
export function applyIntegrationEvent(state: CoordinatorState, event: IntegrationEvent): CoordinatorState {
  switch (event.type) {
    case "Pushed":
      // The same head again changes nothing, forced or not: a repeated event must not count a second rewrite.
      // What was pushed is the branch's head from now on, even when the checkout had moved past (or away from)
      // the head the report named: asking to push the reported one again would push the same thing for ever.
      return updateIssue(state, event.issue, (record) => {
        if (record.pushedSha === event.headSha && record.headSha === event.headSha) return record;
        const rewritten = record.pushedSha !== event.headSha && event.forced;
        return { ...record, pushedSha: event.headSha, headSha: event.headSha, generation: record.generation + (rewritten ? 1 : 0) };
      });
    case "Verified":
      return updateIssue(state, event.issue, (record) =>
        record.pushedSha !== event.headSha
          ? record
          : { ...record, verification: { headSha: event.headSha, passed: true, command: null, exitCode: null, outputTail: null } },
      );
    case "VerifyFailed":
      return updateIssue(state, event.issue, (record) => {
        // A result for a head that is no longer the branch's says nothing about the branch.
        if (record.pushedSha !== event.headSha) return record;
        const e2e = event.command === state.run?.settings.verify.e2e && event.command !== state.run.settings.verify.all;
        const failure: Failure = {
          kind: e2e ? "e2e" : "verify",
          // No exit code: the command did not finish (timed out, or the instance was gone); the output says why.
          summary: event.exitCode === null ? `${event.command} did not finish: ${firstLine(event.outputTail)}` : `${event.command} exited ${String(event.exitCode)}`,
          command: event.command,
          output: event.outputTail,
        };
        const verification = { headSha: event.headSha, passed: false, command: event.command, exitCode: event.exitCode, outputTail: event.outputTail };
        return withFailure({ ...record, verification }, failure);
      });
    case "PullRequestOpened":
      return updateIssue(state, event.issue, (record) => ({ ...record, pullRequest: { number: event.pr, url: event.url, base: event.base } }));
    case "PullRequestChecked":
      return updateIssue(state, event.issue, (record) => checked(state, record, event));
    case "MergeReady":
      return updateIssue(state, event.issue, (record) =>
        record.merge !== null
          ? record
          : { ...record, merge: { pr: event.pr, headSha: event.headSha, stacked: event.stacked, readyAt: event.at, squashSha: null, mergedAt: null } },
      );
    case "Merged": {
      const record = state.issues[event.issue];
      if (record === undefined || isMerged(record)) return state;
      const merge = { pr: event.pr, headSha: event.headSha, stacked: [], readyAt: event.at, ...record.merge, squashSha: event.squashSha, mergedAt: event.at };
      return { ...updateIssue(state, event.issue, () => ({ ...record, merge, pending: null })), epoch: state.epoch + 1 };
    }
    case "MergeRefused":
      return updateIssue(state, event.issue, (record) => refused(state, record, event));
    case "IssueClosed":
      return updateIssue(state, event.issue, (record) => (record.issueClosed ? record : { ...record, issueClosed: true }));
    case "Restacked":
      return updateIssue(state, event.issue, (record) => {
        if (record.pushedSha === event.headSha && record.base === event.onto) return record;
        const stackedOn = record.dependencies.find((d) => event.onto === `issue-${String(d)}`) ?? null;
        return {
          ...record,
          // A branch nothing was reported on yet has no work to verify: it only moved.
          headSha: record.headSha === null ? null : event.headSha,
          pushedSha: event.headSha,
          base: event.onto,
          stackedOn,
          baseSha: event.ontoSha,
          baseGeneration: stackedOn === null ? 0 : (state.issues[stackedOn]?.generation ?? 0),
          generation: record.generation + 1,
          restackConflict: null,
        };
      });
    case "RestackConflicted":
      return updateIssue(state, event.issue, (record) => ({
        ...record,
        restackConflict: { ontoSha: event.ontoSha, from: event.from, paths: event.paths },
      }));
    case "Retargeted":
      return updateIssue(state, event.issue, (record) =>
        record.pullRequest === null ? record : { ...record, pullRequest: { ...record.pullRequest, base: event.base } },
      );
    case "BranchDeleted":
      return updateIssue(state, event.issue, (record) => (record.branchDeleted ? record : { ...record, branchDeleted: true }));
  }
}

function checked(state: CoordinatorState, record: IssueRecord, event: PullRequestChecked): IssueRecord {
  if (record.pushedSha !== event.headSha || event.epoch !== state.epoch) return record;
  const { at, headSha, epoch, mergeability, checks, details, conflicts } = event;
  const next = { ...record, check: { at, headSha, epoch, mergeability, checks, details, conflicts } };
  if (checks === "failure") {
    return withFailure(next, { kind: "checks", summary: `checks failed: ${details.join(", ") || "(unnamed)"}`, command: null, output: null });
  }
  // Still conflicting on a head made since a rebase was asked for, with no merge in between: the rebase did not do its job.
  if (mergeability === "conflicting" && record.rebase?.epoch === epoch && record.rebase.headSha !== headSha) {
    return withFailure(next, {
      kind: "agent-exit",
      summary: "the pull request is still conflicting after the rebase",
      command: null,
      output: conflicts.join("\n") || null,
    });
  }
  return next;
}

function refused(state: CoordinatorState, record: IssueRecord, event: MergeRefused): IssueRecord {
  if (isMerged(record)) return record;
  const next = { ...record, merge: null };
  switch (event.reason) {
    case "conflicting":
      return checked(state, next, {
        type: "PullRequestChecked",
        at: event.at,
        issue: event.issue,
        pr: event.pr,
        headSha: event.headSha,
        epoch: state.epoch,
        mergeability: "conflicting",
        checks: record.check?.headSha === event.headSha ? record.check.checks : "none",
        details: [],
        conflicts: event.conflicts,
      });
    case "checks":
      return withFailure(next, { kind: "checks", summary: event.detail, command: null, output: null });
    case "head-moved":
    case "closed":
      return { ...next, refused: { reason: event.reason, detail: event.detail } };
  }
}

/**
 * Counts the newest attempt's work as failed. Only an attempt that ended well
 * produced the work being judged; one that failed is counted already, so one
 * attempt's work fails once however many checks say so.
 */
function withFailure(record: IssueRecord, failure: Failure): IssueRecord {
  return updateLastAttempt(record, (attempt) => (attempt.end === "succeeded" && attempt.failure === null ? { ...attempt, failure } : attempt));
}

function firstLine(text: string): string {
  return text.trim().split("\n")[0] ?? "";
}
