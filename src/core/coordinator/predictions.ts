import { shownPath } from "../messaging/quoted-text.ts";
import { currentCheck, isMerged, isSettled, openAttempt, resetPending } from "./queries.ts";
import type { CoordinatorState, IssueRecord } from "./state.ts";

/**
 * Seeing conflicts coming (issue 14): after every push and every merge the
 * coordinator asks `BranchMover.predictConflicts` (merge-tree in the host's
 * store, no checkout) which in-flight branches will conflict with the base
 * they merge into, or with a branch that merges before them. A prediction is
 * told to the later branch's agent while it works, holds a later branch that
 * has not started yet until the earlier one merges, and is judged when the
 * later branch meets a conflict (or merges without one).
 *
 * This file is the pure side: the state the events fold into
 * (fold-predictions.ts), what a prediction round looks at, the hold, and the
 * report's figures. The rules are in rules-predictions.ts.
 */

/** What the prediction events fold into (`CoordinatorState.predictions`). */
export interface PredictionsState {
  /** The inputs (`predictionSignature`) of the last prediction round recorded; null before the first. */
  readonly checked: string | null;
  /** The keys of the conflicts the last round found: the predictions that still hold. */
  readonly current: readonly string[];
  /** Every conflict predicted, once per (pair, heads), oldest first. */
  readonly conflicts: readonly PredictedConflict[];
  /** Every conflict a branch met (restack, or the forge calling its pull request conflicting), oldest first. */
  readonly met: readonly ConflictMeeting[];
}

export interface PredictedConflict {
  /** `conflictKey`: the pair and both heads. */
  readonly key: string;
  /** The issue that merges first; null: the feature branch itself (what merged already). */
  readonly earlier: number | null;
  readonly earlierBranch: string;
  readonly earlierSha: string;
  readonly later: number;
  readonly laterSha: string;
  readonly paths: readonly string[];
  /** The conflicting hunks, short and bounded, as the later agent is shown them ("" when none were read). */
  readonly hunks: string;
  /** Whether the later branch's head was read from its worker's checkout while its agent worked. */
  readonly working: boolean;
  readonly at: string;
  /** When the later agent was told, and whether its supervisor took the message; null until then. */
  readonly told: { readonly at: string; readonly delivered: boolean; readonly error: string | null } | null;
}

export interface ConflictMeeting {
  readonly issue: number;
  /** `restack`: a mechanical restack stopped on it; `forge`: the forge called the pull request conflicting. */
  readonly how: "restack" | "forge";
  /** What identifies this meeting (the restack's target, or the observation's head and epoch): recorded once. */
  readonly key: string;
  readonly paths: readonly string[];
  readonly at: string;
  /** The earliest prediction for this issue since its previous meeting; null: the conflict was missed. */
  readonly predictedAt: string | null;
  /** The keys of those predictions. */
  readonly predictions: readonly string[];
}

export function initialPredictions(): PredictionsState {
  return { checked: null, current: [], conflicts: [], met: [] };
}

/** The pair and both heads: a prediction is recorded, and told, once per key. */
export function conflictKey(earlier: number | null, earlierSha: string, later: number, laterSha: string): string {
  return `${earlier === null ? "base" : String(earlier)}@${earlierSha}>${String(later)}@${laterSha}`;
}

/** The predictions part of the state; absent until the first prediction event. */
export function predictionsOf(state: CoordinatorState): PredictionsState {
  return state.predictions ?? EMPTY;
}

const EMPTY = initialPredictions();

/**
 * What a prediction round depends on that the log knows: the merges so far
 * and every head cspace pushed. A push or a merge changes it, and then a new
 * round is due; the agents' commits in their checkouts are read in that round.
 */
export function predictionSignature(state: CoordinatorState): string {
  const heads = Object.values(state.issues)
    .filter((record) => inFlight(record) && hasOwnPushedWork(record))
    .sort((a, b) => a.number - b.number)
    .map((record) => `${String(record.number)}:${record.pushedSha ?? ""}`);
  return [String(state.epoch), ...heads].join(" ");
}

/** A round is due: a push or a merge since the last one, and some in-flight branch has work of its own on the forge to compare. */
export function predictionDue(state: CoordinatorState): boolean {
  return predictionsOf(state).checked !== predictionSignature(state) && Object.values(state.issues).some((record) => inFlight(record) && hasOwnPushedWork(record));
}

/** The forge's branch has commits beyond the base the run made it at. */
function hasOwnPushedWork(record: IssueRecord): boolean {
  return record.pushedSha !== null && record.pushedSha !== record.baseSha;
}

/**
 * Not merged (a merge under way still counts), not failed or blocked: a branch whose conflicts still matter. Nor reset
 * by the operator and not launched again yet: that branch is discarded by the launch.
 */
export function inFlight(record: IssueRecord): boolean {
  return !isSettled(record) && !resetPending(record);
}

/** A branch a prediction round looks at, in the order the merges go. */
export interface PredictionCandidate {
  readonly issue: number;
  readonly branch: string;
  /** Its place in the merge order (dependency order, then number). */
  readonly order: number;
  /** The head cspace pushed; null: read the forge's branch (left by an earlier run), or the checkout. */
  readonly pushedSha: string | null;
  /** The instance whose checkout holds newer work: its agent is working now. */
  readonly working: string | null;
  /** The issue whose branch it is stacked on; null: it sits on the feature branch. */
  readonly stackedOn: number | null;
  /**
   * Where its own commits start (`IssueRecord.baseSha`): for a stacked branch the parent's head it was
   * made or restacked on, so `baseSha...head` is what its own commits change, not its parent's.
   */
  readonly baseSha: string | null;
  /** The issues it is built on: its dependencies and its stack parent, theirs, and so on (this run's issues only). */
  readonly buildsOn: readonly number[];
}

/** The in-flight branches of the run, in merge order. */
export function predictionCandidates(state: CoordinatorState): PredictionCandidate[] {
  const order = state.run?.order ?? [];
  const candidates: PredictionCandidate[] = [];
  for (const [index, n] of order.entries()) {
    const record = state.issues[n];
    if (record === undefined || !inFlight(record)) continue;
    candidates.push({
      issue: n,
      branch: record.branch,
      order: index,
      pushedSha: record.pushedSha,
      working: openAttempt(record) === null ? null : record.branch,
      stackedOn: record.stackedOn,
      baseSha: record.baseSha,
      buildsOn: buildsOn(state, record),
    });
  }
  return candidates;
}

/** The run's issues `record` is built on: dependencies and stack parents, transitively, ascending. */
export function buildsOn(state: CoordinatorState, record: IssueRecord): number[] {
  const found = new Set<number>();
  const next = [...record.dependencies, ...(record.stackedOn === null ? [] : [record.stackedOn])];
  for (let n = next.pop(); n !== undefined; n = next.pop()) {
    const below = state.issues[n];
    if (found.has(n) || below === undefined) continue;
    found.add(n);
    next.push(...below.dependencies, ...(below.stackedOn === null ? [] : [below.stackedOn]));
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * Whether two candidates (earlier first) meet by merging: neither is built on the other. A stacked
 * branch takes part like any other; it meets its own ancestors (and they it) by restacking, not here.
 */
export function meetByMerging(earlier: PredictionCandidate, later: PredictionCandidate): boolean {
  return !later.buildsOn.includes(earlier.issue) && !earlier.buildsOn.includes(later.issue);
}

/**
 * The paths a prediction may name, given what each side's own commits change (null: the feature
 * branch, or a branch on it, whose every change is its own). A conflict on a path only a stacked
 * branch's parent changes is the parent's: the parent's own pair reports it, and the child's agent,
 * which cannot fix its parent's lines, is not told it a second time.
 */
export function attributedPaths(conflicting: readonly string[], ...own: readonly (ReadonlySet<string> | null)[]): string[] {
  return conflicting.filter((path) => own.every((paths) => paths === null || paths.has(path)));
}

/** The predictions that hold now (found by the last round). */
export function currentPredictions(state: CoordinatorState): PredictedConflict[] {
  const predictions = predictionsOf(state);
  const current = new Set(predictions.current);
  return predictions.conflicts.filter((conflict) => current.has(conflict.key));
}

/**
 * The soft edge: a branch that will conflict with one merging before it
 * waits for that one to merge (or to end) before its agent starts, so it is
 * rebased once, on what it will really land on. Null: not held. The launch
 * rule consults this; it never holds an agent already working.
 */
export function heldByPrediction(state: CoordinatorState, record: IssueRecord): string | null {
  return predictionHold(state, record)?.reason ?? null;
}

/** `heldByPrediction` with the issue it waits on. */
export function predictionHold(state: CoordinatorState, record: IssueRecord): { readonly reason: string; readonly on: number } | null {
  // What was predicted for a branch the operator reset is about work its launch discards.
  if (resetPending(record)) return null;
  for (const conflict of currentPredictions(state)) {
    if (conflict.later !== record.number || conflict.earlier === null) continue;
    const earlier = state.issues[conflict.earlier];
    if (earlier === undefined || !inFlight(earlier)) continue;
    return { reason: `held: will conflict with ${conflict.earlierBranch} in ${shownPaths(conflict.paths)}; starts once #${String(conflict.earlier)} merges`, on: conflict.earlier };
  }
  return null;
}

/** Current predictions whose later agent is working now and was not told about them. */
export function untoldPredictions(state: CoordinatorState, record: IssueRecord): PredictedConflict[] {
  if (openAttempt(record) === null || resetPending(record)) return [];
  return currentPredictions(state).filter((conflict) => conflict.later === record.number && conflict.told === null);
}

/** The conflict the issue is meeting now, if it is not recorded yet: a restack stopped, or the forge calls it conflicting. */
export function conflictBeingMet(state: CoordinatorState, record: IssueRecord): { readonly how: "restack" | "forge"; readonly key: string; readonly paths: readonly string[] } | null {
  if (!inFlight(record)) return null;
  const recorded = new Set(predictionsOf(state).met.filter((m) => m.issue === record.number).map((m) => m.key));
  const restack = record.restackConflict;
  if (restack !== null) {
    const key = `restack:${restack.ontoSha}:${restack.from ?? "-"}`;
    if (!recorded.has(key)) return { how: "restack", key, paths: restack.paths };
  }
  const check = currentCheck(state, record);
  if (check?.mergeability === "conflicting") {
    const key = `forge:${String(check.epoch)}:${check.headSha}`;
    if (!recorded.has(key)) return { how: "forge", key, paths: check.conflicts };
  }
  return null;
}

/** The predictions for the issue made since it last met a conflict: what a meeting now proves right. */
export function predictionsSinceLastMeeting(state: CoordinatorState, issue: number): PredictedConflict[] {
  const predictions = predictionsOf(state);
  const last = predictions.met.filter((m) => m.issue === issue).at(-1)?.at ?? null;
  return predictions.conflicts.filter((conflict) => conflict.later === issue && (last === null || Date.parse(conflict.at) > Date.parse(last)));
}

/** The report's figures: how many conflicts were predicted, how many came true and how early, how many were missed. */
export interface PredictionReport {
  /** Pairs of branches predicted to conflict (each pair once, whatever its heads). */
  readonly predicted: number;
  /** Of those, pairs one of whose branches met a conflict on a path of the prediction. */
  readonly cameTrue: number;
  /** Pairs whose later branch merged without either branch meeting a conflict on those paths. */
  readonly falseAlarms: number;
  /** Conflicts met with no prediction before them. */
  readonly missed: number;
  /** Messages the later agents' supervisors took. */
  readonly told: number;
  /** For each conflict met that was predicted: how long before it was met the first prediction came (ms). */
  readonly leadMs: readonly number[];
  /** Issues held now, with the reason. */
  readonly held: readonly { readonly issue: number; readonly reason: string }[];
}

export function predictionReport(state: CoordinatorState): PredictionReport {
  const predictions = predictionsOf(state);
  const pairOf = (conflict: PredictedConflict): string => `${conflict.earlier === null ? "base" : String(conflict.earlier)}>${String(conflict.later)}`;
  const pairs = new Map<string, PredictedConflict>();
  for (const conflict of predictions.conflicts) if (!pairs.has(pairOf(conflict))) pairs.set(pairOf(conflict), conflict);
  // A pair came true when either side met a conflict on one of its paths (the forge may not name them: any then),
  // before or after the prediction: a prediction made as the conflict was being met is still right.
  const shares = (conflict: PredictedConflict, m: ConflictMeeting): boolean =>
    (m.issue === conflict.later || m.issue === conflict.earlier) && (m.paths.length === 0 || m.paths.some((path) => conflict.paths.includes(path)));
  const proven = new Set(predictions.conflicts.filter((conflict) => predictions.met.some((m) => m.predictions.includes(conflict.key) || shares(conflict, m))).map(pairOf));
  let falseAlarms = 0;
  for (const [pair, first] of pairs) {
    if (proven.has(pair)) continue;
    const later = state.issues[first.later];
    if (later !== undefined && isMerged(later)) falseAlarms++;
  }
  const held = Object.values(state.issues)
    .filter((record) => openAttempt(record) === null)
    .flatMap((record) => {
      const reason = heldByPrediction(state, record);
      return reason === null ? [] : [{ issue: record.number, reason }];
    });
  return {
    predicted: pairs.size,
    cameTrue: proven.size,
    falseAlarms,
    missed: predictions.met.filter((m) => m.predictedAt === null).length,
    told: predictions.conflicts.filter((conflict) => conflict.told?.delivered === true).length,
    leadMs: predictions.met.flatMap((m) => (m.predictedAt === null ? [] : [Math.max(0, Date.parse(m.at) - Date.parse(m.predictedAt))])),
    held,
  };
}

/** Paths as a line shows them: the first three, each one token (a worker names them: `shownPath`), then how many more. */
export function shownPaths(paths: readonly string[]): string {
  if (paths.length === 0) return "unknown paths";
  const shown = paths.slice(0, 3).map(shownPath).join(", ");
  return paths.length > 3 ? `${shown} and ${String(paths.length - 3)} more` : shown;
}
