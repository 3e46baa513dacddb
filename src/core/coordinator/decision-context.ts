import type { DependencyState } from "../plan/planner.ts";
import { actionKey, type Action, type Launch, type LaunchDependency } from "./actions.ts";
import {
  basePlan,
  hasUnpushedWork,
  isMerged,
  isMerging,
  isSettled,
  mergeGateHolding,
  openAttempt,
  resetPending,
  restackTarget,
  unresolvedFailure,
} from "./queries.ts";
import { runOverBudget } from "./budget.ts";
import { agentsByHost, boundedHost, hostWithFreeSlot } from "./host-slots.ts";
import { heldByPrediction } from "./predictions.ts";
import type { CoordinatorState, IssueRecord, RunInfo } from "./state.ts";
import { trainJoins } from "./train.ts";
import { launchesAllowedByLimit } from "./usage-limits.ts";
import { branchOf, type LaunchPrompt, type TrainCar } from "./vocabulary.ts";

/**
 * What every rule sees: the state, the time, the actions still in flight, and
 * the choices that depend on more than one issue, made once up front so each
 * rule stays a question about one issue: which issues get the free slots,
 * which pull request is next in the merge queue, and which join the train.
 */
export interface DecisionContext {
  readonly state: CoordinatorState;
  readonly run: RunInfo;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** Actions the runtime is still executing, and their keys. */
  readonly inFlightActions: readonly Action[];
  readonly inFlight: ReadonlySet<string>;
  /** Launches that fit in the free slots, lowest issue number first. */
  readonly launches: ReadonlyMap<number, Launch>;
  /** Issues ready to launch but held by their full host, each with the host that has a slot for it (host-slots.ts). */
  readonly moves: ReadonlyMap<number, string>;
  /** The one issue that may be squash-merged now, first in dependency order then by number. */
  readonly nextMerge: number | null;
  /** The merge candidates that join the train now, with the cars ahead of each (train.ts). */
  readonly train: ReadonlyMap<number, readonly TrainCar[]>;
}

export function decisionContext(state: CoordinatorState, run: RunInfo, now: number, inFlight: readonly Action[]): DecisionContext {
  const keys = new Set(inFlight.map(actionKey));
  const { launches, moves } = admitLaunches(state, run, now, inFlight);
  return {
    state,
    run,
    now,
    inFlightActions: inFlight,
    inFlight: keys,
    launches,
    moves,
    nextMerge: nextMerge(state, run, inFlight),
    train: trainJoins(state, run, inFlight),
  };
}

/**
 * The launches that run now. A slot is taken by every open attempt and by
 * every launch in flight that has not been recorded yet, so launches that
 * take a while never let more than `maxParallel` agents run, nor more than a
 * host's slots on that host (host-slots.ts): an issue whose host is full is
 * passed over, and the next one in order may take the slot. An issue passed
 * over for its full host while another host has a slot free is moved there
 * (made again on that host) once every instance of the run has been made;
 * the move holds that slot, and one of the run's, until it lands and the
 * issue launches.
 */
function admitLaunches(state: CoordinatorState, run: RunInfo, now: number, inFlight: readonly Action[]): { launches: Map<number, Launch>; moves: Map<number, string> } {
  const admitted = new Map<number, Launch>();
  const moves = new Map<number, string>();
  if (state.paused || runOverBudget(state) !== null) return { launches: admitted, moves };
  const allowedByLimit = launchesAllowedByLimit(state, now, inFlight);
  const launching = new Set<number>();
  // A branch the host is still moving (restack or push in flight) gets no agent until the move lands: the agent
  // would start from the old head, and its work be pushed with a lease the move already broke.
  const moving = new Set<number>();
  const movingTo = new Map<number, string>();
  for (const action of inFlight) {
    if (action.type === "Launch" && (state.issues[action.issue]?.attempts.length ?? 0) < action.attempt) launching.add(action.issue);
    if (action.type === "Restack" || action.type === "Push") moving.add(action.issue);
    if (action.type === "Warm" && action.to !== undefined) movingTo.set(action.issue, action.to);
  }
  const records = Object.values(state.issues);
  let free = run.settings.maxParallel - records.filter((record) => openAttempt(record) !== null).length - launching.size - movingTo.size;
  if (allowedByLimit !== null) free = Math.min(free, allowedByLimit);
  const byHost = agentsByHost(state);
  const take = (host: string): void => {
    byHost.set(host, (byHost.get(host) ?? 0) + 1);
  };
  for (const issue of launching) {
    const host = state.issues[issue]?.host;
    if (host != null) take(host);
  }
  for (const host of movingTo.values()) take(host);
  const ordered = records.sort((a, b) => a.number - b.number);
  // Who is passed over for a full host is known only once every issue that stays where it is has had its turn: a slot
  // elsewhere goes to one of them only if nobody already on that host takes it.
  const heldByHost: { readonly record: IssueRecord; readonly from: string }[] = [];
  for (const record of ordered) {
    if (free <= 0) break;
    if (launching.has(record.number) || moving.has(record.number) || movingTo.has(record.number) || record.paused) continue;
    const bound = boundedHost(state, record);
    const full = bound !== null && (byHost.get(bound.host) ?? 0) >= bound.slots;
    const launch = launchFor(state, run, record, now);
    if (launch === null) continue;
    if (full) {
      heldByHost.push({ record, from: bound.host });
      continue;
    }
    admitted.set(record.number, launch);
    if (bound !== null) take(bound.host);
    free--;
  }
  // While an instance is still being made, where it lands is not known: a slot that looks free may be its.
  const settling = records.some((record) => !isSettled(record) && record.warm === "pending");
  for (const { record, from } of settling ? [] : heldByHost) {
    if (free <= 0) break;
    const to = hostWithFreeSlot(state, byHost, record, from);
    if (to === null) continue;
    moves.set(record.number, to);
    take(to);
    free--;
  }
  return { launches: admitted, moves };
}

/** The launch an issue is ready for, slots aside; null when it is not ready for one. */
export function launchFor(state: CoordinatorState, run: RunInfo, record: IssueRecord, now: number): Launch | null {
  if (isSettled(record) || record.refused !== null || record.warm !== "ready" || openAttempt(record) !== null) return null;
  if (heldByPrediction(state, record) !== null) return null;
  // About to be blocked: a dependency failed or is blocked, or one outside the run is open.
  if (record.dependencies.some((d) => state.issues[d]?.outcome != null || (state.outside[String(d)] ?? "closed") !== "closed")) return null;
  const launch = (base: string, stacked: boolean, prompt: LaunchPrompt): Launch => ({
    type: "Launch",
    issue: record.number,
    instance: record.branch,
    branch: record.branch,
    base,
    stacked,
    attempt: record.attempts.length + 1,
    prompt,
    dependencies: launchDependencies(state, record),
    fresh: record.freshStart,
  });
  // A first launch, or one after the operator's reset (its work discarded): where the base-branch rule says, as the implementer.
  if (record.attempts.length === 0 || resetPending(record)) {
    const plan = basePlan(state, record);
    return plan.action === "launch" ? launch(plan.base, plan.stacked, { kind: "implementer" }) : null;
  }
  const prompt = record.pending;
  if (prompt === null || unresolvedFailure(record) !== null || hasUnpushedWork(record)) return null;
  if (record.rateLimitedUntil !== null && now < Date.parse(record.rateLimitedUntil)) return null;
  // A branch that must move is moved first, unless restacking it conflicted: then the rebase waits
  // for whatever was decided before (the retry or review runs on the old base, the rebase follows).
  const target = restackTarget(state, record);
  if (prompt.kind !== "rebase" && target !== null && record.restackConflict?.ontoSha !== target.ontoSha) return null;
  const base = record.base ?? run.settings.featureBranch;
  return launch(base, record.stackedOn !== null, prompt);
}

function launchDependencies(state: CoordinatorState, record: IssueRecord): LaunchDependency[] {
  const internal = record.dependencies.map((d): LaunchDependency => {
    const dependency = state.issues[d];
    const outside = state.outside[String(d)];
    let dependencyState: DependencyState;
    if (dependency === undefined) dependencyState = outside === "closed" ? "closed" : outside === "open" ? "open" : "unknown";
    else if (dependency.mergedBeforeRun) dependencyState = "closed";
    else if (isMerged(dependency)) dependencyState = "merged";
    else dependencyState = dependency.attempts.length > 0 ? "launched" : "open";
    return { number: d, title: dependency?.title ?? "", state: dependencyState, branch: branchOf(d) };
  });
  const external = record.external.map((ref): LaunchDependency => {
    const known = state.outside[ref];
    return { number: Number(ref.slice(ref.lastIndexOf("#") + 1)), title: ref, state: known === "closed" ? "closed" : known === "open" ? "open" : "unknown", branch: null };
  });
  return [...internal, ...external];
}

/**
 * Merges go one at a time, so each is checked against the feature branch as
 * the previous one left it (a sibling that now conflicts is found before any
 * agent is bothered), in dependency order, then by number.
 */
function nextMerge(state: CoordinatorState, run: RunInfo, inFlight: readonly Action[]): number | null {
  // A squash that landed as another tree than the verified one stops all merging, even of a candidate verified since.
  if (state.paused || state.landingMismatch !== undefined || inFlight.some((action) => action.type === "Merge")) return null;
  const records = Object.values(state.issues);
  // A merge under way holds the queue, unless its issue ended (its merge was given up after failing again and again).
  if (records.some((record) => isMerging(record) && record.outcome === null)) return null;
  // A launch stacking on a branch, or a restack moving onto it, records where it starts only when it lands: the merge
  // waits for it, so the stack it records (each child's parent sha) is the one the restacks after it start from.
  const stackingOn = new Set(inFlight.flatMap((action) => (action.type === "Launch" ? [action.base] : action.type === "Restack" ? [action.onto] : [])));
  for (const n of run.order) {
    const record = state.issues[n];
    if (record === undefined || isSettled(record) || record.paused || stackingOn.has(record.branch)) continue;
    if (mergeGateHolding(state, record) === null) return n;
  }
  return null;
}
