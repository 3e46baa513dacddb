import type { IssuesLoaded, Paused, Resumed, RunFinished, RunStarted, Skipped } from "./events.ts";
import type { CoordinatorState, IssueRecord, OutsideState } from "./state.ts";
import { updateIssue, updateLastAttempt } from "./update.ts";
import { branchOf, type GraphSnapshotNode } from "./vocabulary.ts";

type RunEvent = RunStarted | IssuesLoaded | Paused | Resumed | Skipped | RunFinished;

/** The run's own events and the operator's. */
export function applyRunEvent(state: CoordinatorState, event: RunEvent): CoordinatorState {
  switch (event.type) {
    case "RunStarted":
      return state.run === null ? startRun(event) : state;
    case "IssuesLoaded":
      return state.run === null ? state : loadIssues(state, event);
    case "Paused":
    case "Resumed": {
      const paused = event.type === "Paused";
      if (event.issue === null) return state.paused === paused ? state : { ...state, paused };
      return updateIssue(state, event.issue, (record) => (record.paused === paused ? record : { ...record, paused }));
    }
    case "Skipped":
      return updateIssue(state, event.issue, (record) => {
        if (record.outcome !== null || isMergedRecord(record)) return record;
        // The runtime interrupts the agent; its attempt ends here so the slot is free.
        const ended = updateLastAttempt(record, (attempt) => (attempt.end === null ? { ...attempt, end: "interrupted", endedAt: event.at } : attempt));
        return { ...ended, outcome: { kind: "blocked", by: { kind: "operator" }, reason: event.reason, at: event.at } };
      });
    case "RunFinished":
      return state.finished === null ? { ...state, finished: { at: event.at, exitCode: event.exitCode } } : state;
  }
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
    run: { runId: event.runId, startedAt: event.at, selected, order, settings: event.settings },
    issues,
    outside,
    loaded: false,
    paused: false,
    epoch: 0,
    finished: null,
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
    launchFailures: null,
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
  };
}

function isMergedRecord(record: IssueRecord): boolean {
  return record.mergedBeforeRun || record.merge?.squashSha != null;
}
