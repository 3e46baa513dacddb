import { z } from "zod";
import { SHOWN_TEXT_CHARS, shownText } from "../messaging/shown-text.ts";
import { defineEvent, eventGroup, type EventFrom } from "./event-registry.ts";
import { initialState } from "./initial-state.ts";
import type { CoordinatorState, IssueRecord, OutsideState } from "./state.ts";
import { updateIssue, updateLastAttempt } from "./update.ts";
import { branchOf, type GraphSnapshotNode } from "./vocabulary.ts";
import { graphSnapshotSchema, issueNumber, issueStateSchema, list, runSettingsSchema, text } from "./vocabulary-schemas.ts";

/** The run's own events and the operator's (see event-registry.ts for how an event is declared). */

const runStartedFields = z.object({
  runId: text,
  /** The selected issues, ascending. The graph may name more (their dependencies). */
  selected: list(issueNumber),
  graph: graphSnapshotSchema,
  settings: runSettingsSchema,
});
type RunStarted = EventFrom<"RunStarted", typeof runStartedFields>;

const issuesLoadedFields = z.object({
  issues: list(z.object({ number: issueNumber, title: text, state: issueStateSchema, url: text.nullable() })),
  /** Other repositories' issues the graph names, `owner/repo#N`; one left out is unknown and counts as open. */
  external: list(z.object({ ref: text, state: issueStateSchema })),
});
type IssuesLoaded = EventFrom<"IssuesLoaded", typeof issuesLoadedFields>;

/** Operator: `issue` null is the whole run. */
const pauseFields = z.object({ issue: issueNumber.nullable() });

export const runEvents = eventGroup(
  /** The run begins: what it is about, fixed for its life. A second one in a log is ignored. */
  defineEvent("RunStarted", {
    version: 1,
    fields: runStartedFields,
    line: (event) => `run ${event.runId}: ${event.selected.map((n) => `#${String(n)}`).join(" ")} into ${event.settings.featureBranch}, ${String(event.settings.maxParallel)} at once`,
    apply: (state, event) => (state.run === null ? startRun(event) : state),
  }),
  /** What the forge says about the graph's issues; first right after `RunStarted`, again on each resume. */
  defineEvent("IssuesLoaded", {
    version: 1,
    fields: issuesLoadedFields,
    line: () => null,
    apply: (state, event) => (state.run === null ? state : loadIssues(state, event)),
  }),
  /** Operator: hold launches and merges, for one issue or (null) the whole run. Work already running goes on. */
  defineEvent("Paused", {
    version: 1,
    fields: pauseFields,
    line: (event) => (event.issue === null ? "paused: no launch or merge until resume" : `#${String(event.issue)} paused`),
    apply: (state, event) => setPaused(state, event.issue, true),
  }),
  defineEvent("Resumed", {
    version: 1,
    fields: pauseFields,
    line: (event) => (event.issue === null ? "resumed" : `#${String(event.issue)} resumed`),
    apply: (state, event) => setPaused(state, event.issue, false),
  }),
  /**
   * The spending ceilings in force, in dollars (`coordinator.budget`): recorded
   * when a run starts or resumes, and when the operator resumes it, if the
   * configuration says otherwise than the log.
   */
  defineEvent("BudgetSet", {
    version: 1,
    fields: z.object({ run: z.number().min(0).nullable(), issue: z.number().min(0).nullable() }),
    line: (event) => `budget: run ${event.run === null ? "unlimited" : `$${event.run.toFixed(2)}`}, issue ${event.issue === null ? "unlimited" : `$${event.issue.toFixed(2)}`}`,
    apply: (state, event) =>
      state.budget.run === event.run && state.budget.issue === event.issue ? state : { ...state, budget: { run: event.run, issue: event.issue } },
  }),
  /** Operator: give up on an issue; it ends blocked by the operator, and so do its dependents. */
  defineEvent("Skipped", {
    version: 1,
    fields: z.object({ issue: issueNumber, reason: text }),
    line: (event) => `#${String(event.issue)} skipped: ${event.reason}`,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) => {
        if (record.outcome !== null || isMergedRecord(record)) return record;
        // The runtime interrupts the agent; its attempt ends here so the slot is free.
        const ended = updateLastAttempt(record, (attempt) => (attempt.end === null ? { ...attempt, end: "interrupted", endedAt: event.at } : attempt));
        return { ...ended, outcome: { kind: "blocked", by: { kind: "operator" }, reason: event.reason, at: event.at } };
      }),
  }),
  /** A worker's `cspace send _coordinator "<text>"`, known by the socket it came on. Shown to people; changes no decision. */
  defineEvent("WorkerMessaged", {
    version: 1,
    fields: z.object({ issue: issueNumber, text }),
    line: (event) => `#${String(event.issue)} says: ${shownText(event.text, SHOWN_TEXT_CHARS)}`,
    apply: (state) => state,
  }),
  /**
   * The run ends. Version 2 added `abandoned`: why the run was given up
   * before it ended on its own (`cspace coordinate --abandon`, a start that
   * failed before any launch); null when it ran to its end.
   */
  defineEvent("RunFinished", {
    version: 2,
    fields: z.object({ exitCode: z.union([z.literal(0), z.literal(1)]), abandoned: text.nullable() }),
    upcast: { 1: (data) => ({ ...data, abandoned: null }) },
    line: (event) => `run finished (exit ${String(event.exitCode)})`,
    apply: (state, event) => (state.finished === null ? { ...state, finished: { at: event.at, exitCode: event.exitCode, abandoned: event.abandoned } } : state),
  }),
);

function setPaused(state: CoordinatorState, issue: number | null, paused: boolean): CoordinatorState {
  if (issue === null) return state.paused === paused ? state : { ...state, paused };
  return updateIssue(state, issue, (record) => (record.paused === paused ? record : { ...record, paused }));
}

function startRun(event: RunStarted): CoordinatorState {
  const selected = [...new Set(event.selected)].sort((a, b) => a - b);
  const inRun = new Set(selected);
  const nodes = new Map<number, GraphSnapshotNode>(event.graph.nodes.map((node) => [node.number, node]));
  const dependents = new Map<number, number[]>();
  for (const n of selected) {
    for (const d of nodes.get(n)?.dependencies ?? []) {
      if (inRun.has(d)) dependents.set(d, [...(dependents.get(d) ?? []), n]);
    }
  }
  const issues: Record<number, IssueRecord> = {};
  const outside: Record<string, OutsideState> = {};
  for (const n of selected) {
    const node = nodes.get(n);
    const dependencies = node?.dependencies ?? [];
    const external = node?.external ?? [];
    for (const d of dependencies) if (!inRun.has(d)) outside[String(d)] = "unknown";
    for (const ref of external) outside[ref] = "unknown";
    issues[n] = newRecord(n, dependencies, external, dependents.get(n) ?? []);
  }
  const ordered = event.graph.order.filter((n) => inRun.has(n));
  const order = [...ordered, ...selected.filter((n) => !ordered.includes(n))];
  return {
    ...initialState(),
    run: { runId: event.runId, startedAt: event.at, selected, order, settings: event.settings },
    issues,
    outside,
    lastEventAt: event.at,
  };
}

function loadIssues(state: CoordinatorState, event: IssuesLoaded): CoordinatorState {
  const issues: Record<number, IssueRecord> = { ...state.issues };
  const outside: Record<string, OutsideState> = { ...state.outside };
  for (const loaded of event.issues) {
    const record = issues[loaded.number];
    if (record !== undefined) {
      // An issue closed before the run touched it counts as merged, as the planner counts it.
      const closedUntouched = loaded.state === "closed" && record.attempts.length === 0 && record.outcome === null;
      issues[loaded.number] = {
        ...record,
        title: loaded.title,
        url: loaded.url,
        ...(closedUntouched ? { mergedBeforeRun: true, issueClosed: true } : {}),
      };
    } else if (String(loaded.number) in outside) {
      outside[String(loaded.number)] = loaded.state;
    }
  }
  for (const { ref, state: refState } of event.external) if (ref in outside) outside[ref] = refState;
  return { ...state, issues, outside, loaded: true };
}

function newRecord(n: number, dependencies: readonly number[], external: readonly string[], dependents: readonly number[]): IssueRecord {
  return {
    number: n,
    title: "",
    url: null,
    branch: branchOf(n),
    dependencies,
    external,
    dependents,
    // Replaced by withStatuses before anyone sees the state.
    status: { kind: "warming", reason: "", waitingOn: [], until: null },
    warm: "pending",
    warmError: null,
    host: null,
    notMovedTo: [],
    launchFailures: null,
    actionFailures: {},
    base: null,
    stackedOn: null,
    baseSha: null,
    baseGeneration: 0,
    generation: 0,
    attempts: [],
    pending: null,
    rateLimitedUntil: null,
    headSha: null,
    pushedSha: null,
    verification: null,
    pullRequest: null,
    check: null,
    review: { requestedSha: null, passed: false },
    restackConflict: null,
    rebase: null,
    merge: null,
    refused: null,
    issueClosed: false,
    branchDeleted: false,
    mergedBeforeRun: false,
    outcome: null,
    paused: false,
    freshStart: false,
  };
}

function isMergedRecord(record: IssueRecord): boolean {
  return record.mergedBeforeRun || record.merge?.squashSha != null;
}
