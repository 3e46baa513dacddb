import { z } from "zod";
import { defineEvent, eventGroup, type EventFrom } from "./event-registry.ts";
import { judgeLandings, meetConflicts } from "./fold-verification.ts";
import { currentLanding, isMerged, verifiesLanding } from "./queries.ts";
import type { CoordinatorState, IssueRecord } from "./state.ts";
import { updateIssue, updateLastAttempt } from "./update.ts";
import type { Failure } from "./vocabulary.ts";
import { checksStateSchema, count, issueNumber, list, mergeabilitySchema, stackedParentSchema, text } from "./vocabulary-schemas.ts";

/** Branches, verification, pull requests, merges and stacks (see event-registry.ts for how an event is declared). */

const prNumber = z.number().int().positive();

/** What the forge says about a pull request's head: checks and mergeability, observed after `epoch` merges of this run. */
const pullRequestCheckedFields = z.object({
  issue: issueNumber,
  pr: prNumber,
  headSha: text,
  epoch: count,
  mergeability: mergeabilitySchema,
  checks: checksStateSchema,
  /** Checks that failed or are pending. */
  details: list(text),
  /** Paths in conflict, when the forge knows them. */
  conflicts: list(text),
});
type PullRequestChecked = EventFrom<"PullRequestChecked", typeof pullRequestCheckedFields>;

/**
 * The forge refused the squash merge. `conflicting` and `checks` lead to a
 * rebase or a retry; `head-moved` (someone else pushed) and `closed` (someone
 * closed the pull request) fail the issue rather than overwrite a person's work.
 */
const mergeRefusedFields = z.object({
  issue: issueNumber,
  pr: prNumber,
  headSha: text,
  reason: z.enum(["conflicting", "checks", "head-moved", "closed"]),
  detail: text,
  conflicts: list(text),
});
type MergeRefused = EventFrom<"MergeRefused", typeof mergeRefusedFields>;

export const integrationEvents = eventGroup(
  /** `issue-N` on the forge is at `headSha`, pushed from the host; `forced`: the push replaced history (restack what sits on it). */
  defineEvent("Pushed", {
    version: 1,
    fields: z.object({ issue: issueNumber, headSha: text, forced: z.boolean() }),
    // The same head again changes nothing, forced or not: a repeated event must not count a second rewrite.
    // What was pushed is the branch's head from now on, even when the checkout had moved past (or away from)
    // the head the report named: asking to push the reported one again would push the same thing for ever.
    line: (event) => `#${String(event.issue)} pushed ${event.headSha.slice(0, 8)}${event.forced ? " (forced)" : ""}`,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) => {
        if (record.pushedSha === event.headSha && record.headSha === event.headSha) return record;
        const rewritten = record.pushedSha !== event.headSha && event.forced;
        return { ...record, pushedSha: event.headSha, headSha: event.headSha, generation: record.generation + (rewritten ? 1 : 0) };
      }),
  }),
  defineEvent("Verified", {
    version: 1,
    fields: z.object({ issue: issueNumber, headSha: text }),
    line: (event) => `#${String(event.issue)} verified ${event.headSha.slice(0, 8)}`,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) =>
        record.pushedSha !== event.headSha
          ? record
          : { ...record, verification: { headSha: event.headSha, passed: true, command: null, exitCode: null, outputTail: null } },
      ),
  }),
  /** `command`: `verify.all` or `verify.e2e`, whichever failed; `outputTail`: the last lines of its output. */
  defineEvent("VerifyFailed", {
    version: 1,
    fields: z.object({ issue: issueNumber, headSha: text, command: text, exitCode: z.number().int().nullable(), outputTail: text }),
    line: (event) =>
      event.exitCode === null
        ? `#${String(event.issue)} verify failed: ${event.command} did not finish: ${event.outputTail.trim().split("\n")[0] ?? ""}`
        : `#${String(event.issue)} verify failed: ${event.command} exited ${String(event.exitCode)}`,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) => {
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
      }),
  }),
  defineEvent("PullRequestOpened", {
    version: 1,
    fields: z.object({ issue: issueNumber, pr: prNumber, url: text, base: text, headSha: text }),
    line: (event) => `#${String(event.issue)} pull request #${String(event.pr)} into ${event.base}`,
    apply: (state, event) => updateIssue(state, event.issue, (record) => ({ ...record, pullRequest: { number: event.pr, url: event.url, base: event.base } })),
  }),
  defineEvent("PullRequestChecked", {
    version: 1,
    fields: pullRequestCheckedFields,
    line: () => null,
    apply: (state, event) => updateIssue(state, event.issue, (record) => checked(state, record, event)),
  }),
  /** Written by the runtime just before it squash-merges: the head it will name, and what is stacked on it. */
  defineEvent("MergeReady", {
    version: 1,
    fields: z.object({ issue: issueNumber, pr: prNumber, headSha: text, stacked: list(stackedParentSchema) }),
    line: () => null,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) =>
        record.merge !== null
          ? record
          : { ...record, merge: { pr: event.pr, headSha: event.headSha, stacked: event.stacked, readyAt: event.at, squashSha: null, mergedAt: null } },
      ),
  }),
  defineEvent("Merged", {
    version: 1,
    fields: z.object({ issue: issueNumber, pr: prNumber, headSha: text, squashSha: text }),
    line: (event) => `#${String(event.issue)} merged as ${event.squashSha.slice(0, 8)}`,
    apply: (state, event) => {
      const record = state.issues[event.issue];
      if (record === undefined || isMerged(record)) return state;
      const merge = { pr: event.pr, headSha: event.headSha, stacked: [], readyAt: event.at, ...record.merge, squashSha: event.squashSha, mergedAt: event.at };
      const verified = currentLanding(state, record);
      const next: CoordinatorState = {
        ...updateIssue(state, event.issue, () => ({ ...record, merge, pending: null })),
        epoch: state.epoch + 1,
        landed: [...(state.landed ?? []), { issue: event.issue, headSha: event.headSha }],
      };
      if (!verifiesLanding(state)) return next;
      if (verified?.result !== "passed") return meetConflicts(next, event.at);
      // The new tip is the tree that passed (a squash of another tree stops the run: LandingMismatched), so a car
      // behind it that failed is judged now, with no verification of the tip alone.
      const tip = { epoch: next.epoch, sha: event.squashSha, passed: true, command: null, exitCode: null, outputTail: null };
      return meetConflicts(judgeLandings({ ...next, tips: { ...next.tips, [next.epoch]: tip } }), event.at);
    },
  }),
  defineEvent("MergeRefused", {
    version: 1,
    fields: mergeRefusedFields,
    line: (event) => `#${String(event.issue)} merge refused (${event.reason}): ${event.detail}`,
    apply: (state, event) => updateIssue(state, event.issue, (record) => refused(state, record, event)),
  }),
  defineEvent("IssueClosed", {
    version: 1,
    fields: z.object({ issue: issueNumber }),
    line: () => null,
    apply: (state, event) => updateIssue(state, event.issue, (record) => (record.issueClosed ? record : { ...record, issueClosed: true })),
  }),
  /** `git rebase --onto <ontoSha> <from> issue-N` went through and was pushed with lease; `onto` is the branch it sits on now. */
  defineEvent("Restacked", {
    version: 1,
    fields: z.object({ issue: issueNumber, onto: text, ontoSha: text, from: text.nullable(), headSha: text }),
    line: (event) => `#${String(event.issue)} restacked onto ${event.onto}`,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) => {
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
      }),
  }),
  /** The restack stopped on a conflict and was aborted: nothing was pushed, no rebase is left in progress. */
  defineEvent("RestackConflicted", {
    version: 1,
    fields: z.object({ issue: issueNumber, onto: text, ontoSha: text, from: text.nullable(), paths: list(text) }),
    line: (event) => `#${String(event.issue)} restack onto ${event.onto} conflicts in ${event.paths.join(", ")}`,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) => ({
        ...record,
        restackConflict: { ontoSha: event.ontoSha, from: event.from, paths: event.paths },
      })),
  }),
  defineEvent("Retargeted", {
    version: 1,
    fields: z.object({ issue: issueNumber, pr: prNumber, base: text }),
    line: (event) => `#${String(event.issue)} pull request retargeted to ${event.base}`,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) =>
        record.pullRequest === null ? record : { ...record, pullRequest: { ...record.pullRequest, base: event.base } },
      ),
  }),
  defineEvent("BranchDeleted", {
    version: 1,
    fields: z.object({ issue: issueNumber, branch: text }),
    line: () => null,
    apply: (state, event) => updateIssue(state, event.issue, (record) => (record.branchDeleted ? record : { ...record, branchDeleted: true })),
  }),
);

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
