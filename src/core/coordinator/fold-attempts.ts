import { z } from "zod";
import { SHOWN_TEXT_CHARS, shownText } from "../messaging/shown-text.ts";
import type { WorkerReport } from "../agents/worker-status.ts";
import { defineEvent, eventGroup, type EventFrom } from "./event-registry.ts";
import { isSettled, lastAttempt, resetPending, unresolvedFailure } from "./queries.ts";
import type { Attempt, AttemptEnd, CoordinatorState, IssueRecord } from "./state.ts";
import { updateIssue, updateLastAttempt } from "./update.ts";
import { launchStartSchema, startedWhere } from "./launch-start.ts";
import { failedLine } from "./failure-words.ts";
import { parkedBy } from "./usage-limits.ts";
import { addCost } from "../agents/usage-ledger.ts";
import type { Failure } from "./vocabulary.ts";
import {
  attemptWhySchema,
  blockedBySchema,
  count,
  failureSchema,
  issueNumber,
  launchPromptSchema,
  recordedReportSchema,
  rebasePromptSchema,
  text,
  timestamp,
} from "./vocabulary-schemas.ts";

/** Instances, attempts, and the decisions about them (see event-registry.ts for how an event is declared). */

const attemptNumber = z.number().int().min(1);

const launchedFields = z.object({
  issue: issueNumber,
  attempt: attemptNumber,
  why: attemptWhySchema,
  prompt: launchPromptSchema,
  /** The branch `issue-N` started from (initial), or sits on now (later attempts). */
  base: text,
  /** The base's sha when `issue-N` was created from it; null for later attempts. */
  baseSha: text.nullable(),
  /** `issue-N`'s head as the agent starts. */
  headSha: text.nullable(),
  /** First launches: whether `issue-N` was made now or left by an earlier run, and what became of that (launch-start.ts). */
  start: launchStartSchema.optional(),
});
type Launched = EventFrom<"Launched", typeof launchedFields>;

const reportedFields = z.object({ issue: issueNumber, attempt: attemptNumber, report: recordedReportSchema });
type Reported = EventFrom<"Reported", typeof reportedFields>;

export const attemptEvents = eventGroup(
  defineEvent("Warmed", {
    version: 1,
    /** `host`: the worker host the instance is on (absent in runs recorded before hosts). */
    fields: z.object({ issue: issueNumber, instance: text, host: text.optional() }),
    line: (event) => `#${String(event.issue)} ${event.instance} ready${event.host === undefined ? "" : ` on ${event.host}`}`,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) =>
        // Made again on another host (a move): the host changes; otherwise a ready instance stays as it was.
        record.warm === "ready" ? (event.host === undefined || event.host === record.host ? record : { ...record, host: event.host }) : { ...record, warm: "ready", warmError: null, host: event.host ?? null },
      ),
  }),
  /** A move to another host's free slot (`Warm` with `to`) failed: the instance stays where it is, and is not moved to that host again in this run. */
  defineEvent("NotMoved", {
    version: 1,
    fields: z.object({ issue: issueNumber, instance: text, to: text, error: text }),
    line: (event) => `#${String(event.issue)} ${event.instance} stays where it is: host ${event.to} could not make it (${event.error})`,
    apply: (state, event) => updateIssue(state, event.issue, (record) => (record.notMovedTo.includes(event.to) ? record : { ...record, notMovedTo: [...record.notMovedTo, event.to] })),
  }),
  /** The instance could not be made: the issue fails, the run goes on. */
  defineEvent("WarmFailed", {
    version: 1,
    fields: z.object({ issue: issueNumber, instance: text, error: text }),
    line: (event) => `#${String(event.issue)} ${event.instance} could not be made: ${event.error}`,
    apply: (state, event) => updateIssue(state, event.issue, (record) => ({ ...record, warm: "failed", warmError: event.error })),
  }),
  /** An agent started (or was sent a new prompt in its session): attempt `attempt` of the issue, numbered from 1 without gaps. */
  defineEvent("Launched", {
    version: 1,
    fields: launchedFields,
    line: (event) => `#${String(event.issue)} attempt ${String(event.attempt)} (${event.why}) started ${startedWhere(event)}`,
    apply: (state, event) => withProbe(updateIssue(state, event.issue, (record) => launched(state, record, event)), event),
  }),
  /** The worker's supervisor reported the agent's exit, for the attempt the runtime matched it to. */
  defineEvent("Reported", {
    version: 1,
    fields: reportedFields,
    line: (event) => `#${String(event.issue)} attempt ${String(event.attempt)} ended: ${event.report.outcome}${event.report.blockedReason === null ? "" : ` (${shownText(event.report.blockedReason, SHOWN_TEXT_CHARS)})`}, ${String(event.report.turns)} turns`,
    apply: (state, event) => afterProbeReport(updateIssue(state, event.issue, (record) => reported(state, record, event)), event),
  }),
  /**
   * The agent hit its account's usage limit: its attempt ends without counting
   * as a failure, the same prompt is sent again, and every launch on the
   * account waits until `until` (the reset plus a margin), when one probes
   * (usage-limits.ts). Version 2 added the account, the reset the agent
   * announced and its message.
   */
  defineEvent("RateLimited", {
    version: 2,
    fields: z.object({ issue: issueNumber, attempt: attemptNumber, until: timestamp, account: text, resetsAt: timestamp.nullable(), message: text.nullable() }),
    upcast: { 1: (data) => ({ ...data, account: "agent", resetsAt: null, message: null }) },
    line: (event) =>
      `#${String(event.issue)} attempt ${String(event.attempt)} met ${event.account}'s usage limit${event.message === null ? "" : ` (${shownText(event.message, SHOWN_TEXT_CHARS)})`}: not counted; launches wait until ${event.until}, then one probes`,
    apply: (state, event) => {
      const record = state.issues[event.issue];
      const attempt = record?.attempts[event.attempt - 1];
      // A limit met by a report already recorded (it ended the attempt as rate-limited), or by an open attempt.
      if (record === undefined || attempt === undefined || (attempt.end !== null && attempt.end !== "rate-limited")) return state;
      const parked = { ...state, parked: parkedBy(state.parked, event) };
      return updateIssue(parked, event.issue, (current) => {
        const ended = updateLastAttempt(current, (open) => (open.number === attempt.number && open.end === null ? { ...open, end: "rate-limited", endedAt: event.at } : open));
        // A limit is a state, not a failure: the same prompt goes again once the account is back (unless the work was reset).
        return isSettled(current) || resetPending(current) || lastAttempt(ended)?.number !== attempt.number ? ended : { ...ended, pending: attempt.prompt, rateLimitedUntil: event.until };
      });
    },
  }),
  /** The container or its supervisor is gone. An open attempt ends as a failure (kind `lost`); the instance is warmed again. */
  defineEvent("WorkerLost", {
    version: 1,
    /** `attempt`: the attempt that was running, or null when none was. */
    fields: z.object({ issue: issueNumber, attempt: attemptNumber.nullable(), reason: text }),
    line: (event) => `#${String(event.issue)} worker lost: ${event.reason}`,
    apply: (state, event) =>
      updateIssue(probeLost(state, event.issue), event.issue, (record) => {
        const attempt = event.attempt === null ? undefined : record.attempts[event.attempt - 1];
        const failure: Failure = { kind: "lost", summary: event.reason, command: null, output: null };
        const ended = attempt?.end === null ? updateLastAttempt(record, (open) => ({ ...open, end: "lost", endedAt: event.at, failure })) : record;
        // No attempt: the launch itself could not start the agent. Counted, so an agent that can never start fails its issue;
        // once per warm (a launch needs the instance warmed again first), so the same event applied twice counts once.
        const launchFailed = event.attempt === null && record.warm !== "pending";
        const counted = launchFailed ? { ...ended, launchFailures: { count: (record.launchFailures?.count ?? 0) + 1, error: event.reason } } : ended;
        // The instance is made again (warm checks what is left) before the next launch; a settled issue has none.
        return isSettled(record) ? counted : { ...counted, warm: "pending" };
      }),
  }),
  /**
   * A world action of the issue failed (the port threw): `failures` in a row of this kind of action, counting this one.
   * `givenUp`: the runtime stops trying it (coordinator-runtime/retry.ts); `decide` never asks for it again, even after a resume.
   */
  defineEvent("ActionFailed", {
    version: 1,
    fields: z.object({ issue: issueNumber, action: text, failures: z.number().int().min(1), error: text, givenUp: z.boolean() }),
    line: () => null,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) => ({
        ...record,
        actionFailures: { ...record.actionFailures, [event.action]: { count: event.failures, error: event.error, givenUp: event.givenUp } },
      })),
  }),
  /** A world action that had failed went through: its count of failures in a row starts again. */
  defineEvent("ActionRecovered", {
    version: 1,
    fields: z.object({ issue: issueNumber, action: text }),
    line: () => null,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) => {
        if (!Object.hasOwn(record.actionFailures, event.action)) return record;
        return { ...record, actionFailures: Object.fromEntries(Object.entries(record.actionFailures).filter(([kind]) => kind !== event.action)) };
      }),
  }),
  /** Decision: attempt `attempt` failed and the issue runs again with `prompt`. */
  defineEvent("Retried", {
    version: 1,
    fields: z.object({ issue: issueNumber, attempt: attemptNumber, failure: failureSchema, prompt: launchPromptSchema }),
    line: (event) => `#${String(event.issue)} retrying after ${event.failure.kind}: ${event.failure.summary}`,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) => {
        const attempt = unresolvedFailure(record);
        if (attempt?.number !== event.attempt || isSettled(record)) return record;
        const resolved = updateLastAttempt(record, (last) => ({ ...last, resolution: "retried" }));
        // New work needs a new review; a rebase or a second review try keeps the verdict.
        const review = event.prompt.kind === "retry" ? { requestedSha: null, passed: false } : record.review;
        return { ...resolved, pending: event.prompt, review };
      }),
  }),
  /**
   * Decision: the issue ends failed; its instance is kept for inspection. `failure`: the attempt's failure that
   * failed it, when one did (absent in logs written before it was recorded, and for other reasons).
   */
  defineEvent("Failed", {
    version: 1,
    fields: z.object({ issue: issueNumber, reason: text, failure: failureSchema.optional() }),
    line: failedLine,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) => {
        if (isSettled(record)) return record;
        const resolved = unresolvedFailure(record) === null ? record : updateLastAttempt(record, (last) => ({ ...last, resolution: "failed" }));
        return { ...resolved, pending: null, outcome: { kind: "failed", reason: event.reason, at: event.at } };
      }),
  }),
  /** Decision: the issue ends blocked; its instance is kept. */
  defineEvent("Blocked", {
    version: 1,
    fields: z.object({ issue: issueNumber, by: blockedBySchema, reason: text }),
    line: (event) => `#${String(event.issue)} blocked: ${shownText(event.reason, SHOWN_TEXT_CHARS)}`,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) =>
        isSettled(record)
          ? record
          : { ...record, pending: null, outcome: { kind: "blocked", by: event.by, reason: event.reason, at: event.at }, ...(record.pending === null ? {} : { pendingWhenBlocked: record.pending }) },
      ),
  }),
  /** Decision: the worker is to rebase, with the rebase template; `epoch` is the merges so far when asked. */
  defineEvent("RebaseRequested", {
    version: 1,
    fields: z.object({ issue: issueNumber, epoch: count, prompt: rebasePromptSchema }),
    line: (event) => `#${String(event.issue)} asked to rebase onto ${event.prompt.onto}`,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) =>
        isSettled(record)
          ? record
          : { ...record, pending: event.prompt, rebase: { epoch: event.epoch, ontoSha: event.prompt.ontoSha, headSha: record.pushedSha } },
      ),
  }),
  /** Decision: the verified head is to be reviewed by the same worker. */
  defineEvent("ReviewRequested", {
    version: 1,
    fields: z.object({ issue: issueNumber, headSha: text, pullRequestUrl: text.nullable() }),
    line: () => null,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) =>
        isSettled(record)
          ? record
          : {
              ...record,
              pending: { kind: "review", headSha: event.headSha, pullRequestUrl: event.pullRequestUrl },
              review: { requestedSha: event.headSha, passed: false },
            },
      ),
  }),
  /** Decision: the review attempt ended well; its head (with any fixes it made) may merge once verified. */
  defineEvent("Reviewed", {
    version: 1,
    fields: z.object({ issue: issueNumber, attempt: attemptNumber, headSha: text.nullable(), summary: text }),
    line: () => null,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) =>
        record.review.passed ? record : { ...record, review: { requestedSha: record.review.requestedSha, passed: true } },
      ),
  }),
);

/** A launch once the account's park is over is its probe: no other starts until it reports. */
function withProbe(state: CoordinatorState, event: Launched): CoordinatorState {
  const park = state.parked;
  if (park === null || park.probe !== null || Date.parse(event.at) < Date.parse(park.until)) return state;
  return { ...state, parked: { ...park, probe: { issue: event.issue, attempt: event.attempt } } };
}

/** The probe reported without meeting the limit: the account works again and every launch may go. */
function afterProbeReport(state: CoordinatorState, event: Reported): CoordinatorState {
  const park = state.parked;
  if (park?.probe?.issue !== event.issue || park.probe.attempt !== event.attempt) return state;
  if (event.report.usageLimit != null) return { ...state, parked: { ...park, probe: null } };
  const ms = Date.parse(event.at) - Date.parse(park.since);
  // Every issue the park held may start now: none waits for a time that is past.
  const issues = Object.fromEntries(Object.entries(state.issues).map(([n, record]) => [n, record.rateLimitedUntil === null ? record : { ...record, rateLimitedUntil: null }]));
  return { ...state, issues, parked: null, parkedMs: state.parkedMs + (Number.isNaN(ms) ? 0 : Math.max(0, ms)) };
}

/** The probe's worker is gone before it said anything: another launch probes. */
function probeLost(state: CoordinatorState, issue: number): CoordinatorState {
  const park = state.parked;
  return park?.probe?.issue === issue ? { ...state, parked: { ...park, probe: null } } : state;
}

function launched(state: CoordinatorState, record: IssueRecord, event: Launched): IssueRecord {
  // Attempts are numbered without gaps and one runs at a time: anything else is a repeat. A launch
  // that lands on a settled issue is still recorded: its agent runs, and its report will end it.
  const last = lastAttempt(record);
  if (event.attempt !== record.attempts.length + 1 || (last !== null && last.end === null)) return record;
  const attempt: Attempt = {
    number: event.attempt,
    why: event.why,
    prompt: event.prompt,
    base: event.base,
    startedAt: event.at,
    startHead: event.headSha ?? record.pushedSha,
    endedAt: null,
    end: null,
    reportId: null,
    exitCode: null,
    headSha: null,
    commitsAhead: null,
    turns: 0,
    costUsd: null,
    summary: null,
    blockedReason: null,
    failure: null,
    resolution: null,
  };
  // The launch used the pending prompt; one decided while it was in flight still waits its turn.
  const pending = record.pending !== null && JSON.stringify(record.pending) !== JSON.stringify(event.prompt) ? record.pending : null;
  // A first launch (`baseSha` set) has done what `--fresh` or `reset` asked for.
  const next: IssueRecord = { ...record, attempts: [...record.attempts, attempt], pending, rateLimitedUntil: null, launchFailures: null, ...(event.baseSha === null ? {} : { freshStart: false }) };
  const restarted = resetPending(record) && event.baseSha !== null;
  if (record.attempts.length > 0 && !restarted) return next;
  // The first launch creates `issue-N` at the base's head: that is what the forge has. A launch after a reset moved
  // `issue-N` back to its base: a rewrite of its history, so branches stacked on it drop the discarded commits (restack).
  const stackedOn = stackedOnOf(record, event.base);
  return {
    ...next,
    base: event.base,
    stackedOn,
    baseSha: event.baseSha,
    baseGeneration: stackedOn === null ? 0 : (state.issues[stackedOn]?.generation ?? 0),
    pushedSha: event.headSha ?? event.baseSha,
    ...(restarted ? { generation: record.generation + 1 } : {}),
  };
}

function reported(state: CoordinatorState, record: IssueRecord, event: Reported): IssueRecord {
  const attempt = record.attempts[event.attempt - 1];
  const { report } = event;
  if (attempt === undefined || record.attempts.some((a) => a.reportId === report.id)) return record;
  // Both runs of a restarted attempt count: each report has its own run's share.
  const turns = attempt.turns + report.turns;
  const costUsd = addCost(attempt.costUsd, report.costUsd);
  const estimated = attempt.costEstimated === true || report.costEstimated === true ? { costEstimated: true } : {};
  if (attempt.end !== null) {
    // Ended by the operator's skip before its agent stopped: the report that follows decides nothing, but what the
    // attempt spent is in it (and replaces the figures polled while it ran), so the run's cost does not lose it.
    if (attempt.end !== "interrupted" || attempt.reportId !== null || !isSettled(record)) return record;
    const spent: Attempt = { ...attempt, reportId: report.id, turns, costUsd, live: null, reportedUpTo: report.endedAt, ...estimated };
    return { ...record, attempts: record.attempts.map((a) => (a.number === attempt.number ? spent : a)) };
  }
  if (report.restarted === true && report.outcome === "interrupted") {
    // `cspace restart` is not a new attempt: a new supervisor carries this one on, and its report ends it.
    // What its runs spent is in this report now: figures polled from them (`Spending`) no longer count.
    const goesOn: Attempt = { ...attempt, reportId: report.id, turns, costUsd, live: null, reportedUpTo: report.endedAt, ...estimated };
    return { ...record, attempts: record.attempts.map((a) => (a.number === attempt.number ? goesOn : a)) };
  }
  const { end, failure } = classify(report, attempt);
  const ended: Attempt = {
    ...attempt,
    end,
    failure,
    endedAt: event.at,
    reportId: report.id,
    exitCode: report.exitCode,
    headSha: report.headSha,
    commitsAhead: report.commitsAhead,
    turns,
    costUsd,
    ...estimated,
    summary: report.summary,
    blockedReason: report.blockedReason,
  };
  const attempts = record.attempts.map((a) => (a.number === attempt.number ? ended : a));
  const next: IssueRecord = { ...record, attempts };
  // The agent the operator's reset stopped: its attempt ends, and nothing it reports is taken (its work was discarded).
  if (resetPending(record)) return next;
  if (end === "interrupted") return isSettled(record) ? next : { ...next, pending: attempt.prompt };
  if (end !== "succeeded" || report.headSha === null) return next;
  if (attempt.prompt.kind !== "rebase") return { ...next, headSha: report.headSha };
  // A rebase moved the branch onto `onto`: that is its base now.
  const stackedOn = stackedOnOf(record, attempt.prompt.onto);
  return {
    ...next,
    headSha: report.headSha,
    base: attempt.prompt.onto,
    stackedOn,
    baseSha: attempt.prompt.ontoSha,
    baseGeneration: stackedOn === null ? 0 : (state.issues[stackedOn]?.generation ?? 0),
    restackConflict: null,
  };
}

/** How a report ends its attempt, and whether that counts as a failure. */
function classify(report: WorkerReport, attempt: Attempt): { end: AttemptEnd; failure: Failure | null } {
  // The account's limit stopped it, not the work: parked by the `RateLimited` recorded with it, never counted.
  if (report.outcome === "failure" && report.usageLimit != null) return { end: "rate-limited", failure: null };
  const fail = (kind: Failure["kind"], summary: string, output: string | null = null): Failure => ({ kind, summary, command: null, output });
  switch (report.outcome) {
    case "success": {
      const implementing = attempt.why === "initial" || attempt.why === "retry";
      if (report.headSha === null || (implementing && report.commitsAhead === 0)) {
        return { end: "no-commits", failure: fail("no-commits", "the agent exited 0 with nothing committed", report.summary) };
      }
      if (attempt.why === "retry" && report.headSha === attempt.startHead) {
        return { end: "no-commits", failure: fail("no-commits", "the agent exited 0 with no commit since the failed attempt", report.summary) };
      }
      // A rebase that leaves the branch where it was did not rebase: otherwise the same conflict waits forever.
      if (attempt.why === "rebase" && report.headSha === attempt.startHead) {
        return { end: "no-commits", failure: fail("no-commits", "the rebase left the branch where it was", report.summary) };
      }
      return { end: "succeeded", failure: null };
    }
    case "failure":
      // Exit 0 reported as a failure: git could not count the branch's commits (the summary says why); never "no commits".
      if (report.exitCode === 0) return { end: "failed", failure: fail("agent-exit", "the agent exited 0, but git could not read its branch in the workspace", report.summary) };
      return { end: "failed", failure: fail("agent-exit", `the agent exited with code ${String(report.exitCode)}`, report.summary) };
    case "crash":
      return { end: "crashed", failure: fail("crash", report.signal === null ? "the agent crashed" : `the agent was killed by ${report.signal}`, report.summary) };
    case "oom":
      return { end: "crashed", failure: fail("crash", "the agent was killed for running out of memory", report.summary) };
    case "blocked":
      return { end: "blocked", failure: null };
    case "interrupted":
      return { end: "interrupted", failure: null };
  }
}

/** The dependency whose branch `base` is, if any. */
function stackedOnOf(record: IssueRecord, base: string): number | null {
  return record.dependencies.find((d) => base === `issue-${String(d)}`) ?? null;
}
