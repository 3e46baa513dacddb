import { runOverBudget } from "../coordinator/budget.ts";
import { currentPredictions, predictionHold } from "../coordinator/predictions.ts";
import {
  awaitsVerify,
  basePlan,
  carsAhead,
  currentLanding,
  failureCount,
  hasUnpushedWork,
  currentCheck,
  isMerged,
  isMerging,
  lastAttempt,
  mergeGateHolding,
  openAttempt,
  restackTarget,
  unmergedDependencies,
  unresolvedFailure,
} from "../coordinator/queries.ts";
import type { CoordinatorState, IssueRecord } from "../coordinator/state.ts";
import { trainJoins } from "../coordinator/train.ts";
import type { TrainCar } from "../coordinator/vocabulary.ts";
import type { RowGroup } from "./model.ts";
import { shownPath } from "../messaging/quoted-text.ts";

/**
 * An issue's state in words for the dashboard: what it does or waits for,
 * specific enough to act on ("waiting on #11, #12", "stacked on issue-12,
 * waiting for #12 to merge", "queued to merge, 2nd"), never an identifier of
 * the code. The core's status kind (status.ts) decides which case it is; the
 * words are drawn from the facts behind it, so they cannot disagree with it.
 */
export interface RowState {
  readonly words: string;
  readonly group: RowGroup;
  /** When a usage limit ends (ISO 8601), for a view that shows local time; null otherwise. */
  readonly until: string | null;
}

export function rowState(state: CoordinatorState, record: IssueRecord): RowState {
  const status = record.status;
  switch (status.kind) {
    case "merged":
      return done("merged", mergedWords(record));
    case "failed":
      return done("failed", `failed: ${record.outcome?.reason ?? status.reason}`);
    case "blocked":
      return done("blocked", blockedWords(record));
    case "merging":
      return done("working", `merging pull request #${String(record.merge?.pr ?? record.pullRequest?.number ?? 0)}`);
    case "rate-limited":
      return { words: `parked: usage limit until ${clock(status.until)}`, group: "waiting", until: status.until };
    case "warming":
      return done("waiting", record.warm === "failed" ? `warming failed: ${record.warmError ?? "unknown error"}` : "warming");
    case "waiting":
      return done("waiting", waitingWords(state, record));
    case "ready":
      return readyState(state, record);
    case "working":
    case "reviewing":
    case "rebasing":
      return agentState(state, record);
    case "verifying":
      return verifyingState(state, record);
    case "pr-open":
      return pullRequestState(state, record);
  }
}

function done(group: RowGroup, words: string): RowState {
  return { words, group, until: null };
}

function mergedWords(record: IssueRecord): string {
  const squash = record.merge?.squashSha ?? null;
  if (record.mergedBeforeRun || squash === null) return "merged before the run";
  return `merged as ${short(squash)} (#${String(record.merge?.pr ?? 0)})`;
}

function blockedWords(record: IssueRecord): string {
  const outcome = record.outcome;
  if (outcome?.kind !== "blocked") return "blocked";
  switch (outcome.by.kind) {
    case "worker":
      return `blocked: ${lastAttempt(record)?.blockedReason ?? "its worker gave no reason"}`;
    case "operator":
      return outcome.reason === "skipped by the operator" ? "skipped by you" : `skipped: ${outcome.reason}`;
    case "dependency":
    case "outside":
    case "base":
      return `blocked: ${outcome.reason}`;
  }
}

/** Not started: waiting on dependencies (the base-branch rule), or held by a predicted conflict. */
function waitingWords(state: CoordinatorState, record: IssueRecord): string {
  const hold = predictionHold(state, record);
  if (hold !== null) {
    const paths = currentPredictions(state).find((conflict) => conflict.later === record.number && conflict.earlier === hold.on)?.paths ?? [];
    return `waiting on #${String(hold.on)} to merge${paths.length === 0 ? "" : `: it would conflict in ${shownPaths(paths)}`}`;
  }
  const plan = basePlan(state, record);
  const on = plan.action === "wait" ? plan.waitingOn : unmergedDependencies(state, record);
  return on.length === 0 ? "waiting" : `waiting on ${on.map(refText).join(", ")}`;
}

/** Nothing running: a launch waits for a slot, a retry is being decided, or something holds every launch. */
function readyState(state: CoordinatorState, record: IssueRecord): RowState {
  const failed = unresolvedFailure(record);
  if (failed?.failure != null) {
    const max = state.run?.settings.maxAttempts ?? 1;
    return done("waiting", `attempt ${String(failed.number)} failed (${failed.failure.summary}); ${String(failureCount(record))} of ${String(max)} attempts failed`);
  }
  const held = launchHeld(state, record);
  if (held !== null) return held;
  const pending = record.pending;
  if (pending?.kind === "retry") return done("waiting", `retry ${String(pending.attempt)} of ${String(pending.maxAttempts)} waiting for a slot`);
  if (record.attempts.length > 0) return done("waiting", "waiting for a slot");
  const plan = basePlan(state, record);
  if (plan.action === "launch" && plan.stacked) return done("waiting", `stacked on ${plan.base}, waiting for a slot`);
  return done("waiting", "waiting for a slot");
}

/** What holds a launch, run-wide or for this issue, in words; null when only a free slot is missing. */
function launchHeld(state: CoordinatorState, record: IssueRecord): RowState | null {
  if (record.paused) return done("waiting", "paused by you");
  if (state.paused) return done("waiting", "paused: the run is paused");
  if (state.parked !== null) return { words: `parked: usage limit until ${clock(state.parked.until)}`, group: "waiting", until: state.parked.until };
  if (runOverBudget(state) !== null) return done("waiting", "held: the run spent its budget");
  return null;
}

/** `working`, `reviewing`, `rebasing`: an agent runs, waits for a slot, or the branch is being moved. */
function agentState(state: CoordinatorState, record: IssueRecord): RowState {
  const open = openAttempt(record);
  const parent = record.stackedOn === null ? undefined : state.issues[record.stackedOn];
  // Once the parent merged, the branch belongs on the feature branch: no longer "stacked", whatever is under way.
  const stacked = parent === undefined || isMerged(parent) ? "" : `, stacked on ${parent.branch}`;
  if (open !== null) {
    // A rebase or a review is its own kind (status.ts); a working agent says when it is a retry.
    const why = record.status.kind === "working" && open.why !== "initial" ? `: ${open.why}` : "";
    return done("working", `${record.status.kind} (attempt ${String(open.number)}${why})${stacked}`);
  }
  if (record.restackConflict !== null && record.pending?.kind !== "rebase") {
    const paths = record.restackConflict.paths.join(", ") || "unknown paths";
    return done("waiting", `restack conflicted in ${paths}: an agent will rebase it`);
  }
  switch (record.pending?.kind) {
    case "rebase":
      return launchHeld(state, record) ?? done("waiting", `rebase onto ${record.pending.onto} waiting for a slot`);
    case "review":
      return launchHeld(state, record) ?? done("waiting", "review waiting for a slot");
    case "retry":
    case "implementer":
    case undefined:
      break;
  }
  const restack = restackTarget(state, record);
  if (restack !== null) {
    const why = restack.onto === `issue-${String(restack.parent)}` ? "moved" : "merged";
    return done("working", `restacking onto ${restack.onto} (#${String(restack.parent)} ${why})`);
  }
  if (record.status.kind === "reviewing") return done("waiting", "review to be asked for");
  return done("working", `working${stacked}`);
}

function verifyingState(state: CoordinatorState, record: IssueRecord): RowState {
  if (hasUnpushedWork(record)) return done("working", "pushing");
  if (awaitsVerify(state, record)) return done("working", "verifying");
  const feature = state.run?.settings.featureBranch ?? "the feature branch";
  const landing = record.landing ?? null;
  const ahead = landing !== null && landing.headSha === record.pushedSha ? carsAhead(state, landing) : null;
  const current = currentLanding(state, record);
  if (current?.result === "failed") return done("working", `failed on ${feature}; verifying ${feature} alone before judging it`);
  if (current?.result === "conflicted") return done("waiting", `conflicts with ${feature}: a rebase follows`);
  if (landing !== null && ahead !== null && ahead.length > 0) {
    const on = onTrain(feature, ahead);
    if (landing.result === "passed") return done("waiting", `queued to merge, ${ordinal(ahead.length + 1)}`);
    const until = `judged once ${ahead.map((car) => `#${String(car.issue)}`).join(", ")} merged`;
    return done("waiting", `${landing.result === "failed" ? "failed" : "conflicts"} on ${on}: ${until}`);
  }
  const run = state.run;
  const joins = run === null ? undefined : trainJoins(state, run, []).get(record.number);
  if (joins === undefined) return done("waiting", "waiting to join the merge train");
  return done("working", `verifying on ${onTrain(feature, joins)}`);
}

/** "feature/login + #11": the tip and the cars merged onto it before this one. */
function onTrain(feature: string, ahead: readonly TrainCar[]): string {
  return [feature, ...ahead.map((car) => `#${String(car.issue)}`)].join(" + ");
}

function pullRequestState(state: CoordinatorState, record: IssueRecord): RowState {
  const pr = record.pullRequest;
  if (pr === null) return done("working", "opening its pull request");
  const gate = mergeGateHolding(state, record);
  const paused = record.paused || state.paused ? "paused; " : "";
  switch (gate) {
    case null:
      return done("waiting", `${paused}queued to merge, ${ordinal(mergeQueuePosition(state, record))}`);
    case "dependencies": {
      const on = unmergedDependencies(state, record).map(refText).join(", ");
      return done("waiting", record.stackedOn === null ? `waiting on ${on} to merge` : `stacked on issue-${String(record.stackedOn)}, waiting for ${on} to merge`);
    }
    case "pull-request":
    case "settled-work":
      return done("working", "finishing its work");
    case "base":
      return done("waiting", `its pull request waits to be retargeted to ${state.run?.settings.featureBranch ?? "the feature branch"}`);
    case "verify":
      return done("waiting", "waiting for verify");
    case "review":
      return done("waiting", "waiting for review");
    case "checks":
      return done("waiting", checksWords(state, record));
    case "mergeable":
      return done("waiting", `the forge says it is ${record.check?.mergeability ?? "unknown"}`);
    case "landing":
      return verifyingState(state, record);
  }
}

/** The checks gate holds: they failed, or are pending or not observed yet for this head. */
function checksWords(state: CoordinatorState, record: IssueRecord): string {
  return currentCheck(state, record)?.checks === "failure" ? "the forge's checks failed" : "waiting for the forge's checks";
}

/** 1 for the next merge: merges go one at a time in merge order, after any under way. */
function mergeQueuePosition(state: CoordinatorState, record: IssueRecord): number {
  let position = 1;
  for (const n of state.run?.order ?? []) {
    if (n === record.number) break;
    const other = state.issues[n];
    if (other === undefined) continue;
    if (isMerging(other) || (other.status.kind === "pr-open" && other.pullRequest !== null && mergeGateHolding(state, other) === null)) position += 1;
  }
  return position;
}

/** "1st", "2nd", "3rd", "11th", "22nd". */
export function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  const suffix = teen ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th");
  return `${String(n)}${suffix}`;
}

/** "14:05 UTC": the view shows it in local time from `until`; the words must not depend on where they are read. */
export function clock(iso: string | null): string {
  const time = iso === null ? Number.NaN : Date.parse(iso);
  return Number.isNaN(time) ? "its reset" : `${new Date(time).toISOString().slice(11, 16)} UTC`;
}

/** The first two paths, each one token (a worker names them: `shownPath`), and how many more. */
function shownPaths(paths: readonly string[]): string {
  const shown = paths.slice(0, 2).map(shownPath).join(", ");
  return paths.length <= 2 ? shown : `${shown} and ${String(paths.length - 2)} more`;
}

function refText(ref: number | string): string {
  return typeof ref === "number" ? `#${String(ref)}` : ref;
}

function short(sha: string): string {
  return sha.slice(0, 7);
}
