import type { Action } from "./actions.ts";
import { carsAhead, isSettled, mergeGateHolding, tipVerdict, verifiesLanding } from "./queries.ts";
import type { CoordinatorState, IssueRecord, RunInfo } from "./state.ts";
import type { TrainCar } from "./vocabulary.ts";

/**
 * The merge train: merge candidates verified at once instead of one after
 * another. The first car is verified on the feature branch's tip, each next
 * one on the tip with the heads of the cars before it merged, each in its own
 * worker; a car merges once every car ahead of it has merged, and then its
 * verification is of exactly the tree its merge makes (the runtime checks
 * that tree again before merging: `Merge.verifiedTree`). A car whose
 * verification failed or conflicted stays in place until the cars ahead of
 * it merge and its failure is judged on the tip it meets; the cars behind it
 * were verified on a tree that held it, so their verifications are void and
 * they are verified again without it. There is no batch to bisect: each
 * car's own tree is verified, so the first failing car is known at once.
 *
 * Stacked branches join the same way: a child joins once its parent merged
 * and it was restacked and retargeted onto the feature branch (the merge
 * gate's `base`), so the parent is on the tip it is verified on.
 */

/** A car: a landing verification under way (an action in flight) or recorded, with the cars still ahead of it. */
interface Car {
  readonly issue: number;
  readonly headSha: string;
  readonly epoch: number;
  readonly ahead: readonly TrainCar[];
  readonly result: "verifying" | "passed" | "failed" | "conflicted";
}

/** The issues that join the train now, each with the cars ahead of it (the heads merged onto the tip before its own). */
export function trainJoins(state: CoordinatorState, run: RunInfo, inFlight: readonly Action[]): ReadonlyMap<number, readonly TrainCar[]> {
  const joins = new Map<number, readonly TrainCar[]>();
  if (!verifiesLanding(state) || state.paused || state.landingMismatch !== undefined || tipVerdict(state)?.passed === false) return joins;
  // The tip alone is being judged: a red tip would void every car.
  if (inFlight.some((action) => action.type === "VerifyBase")) return joins;
  const cars = carsOf(state, inFlight);
  const moving = cars.filter((car) => !isVoid(state, car, cars) && (car.result === "verifying" || car.result === "passed"));
  const tail = moving.reduce<Car | null>((longest, car) => (longest === null || car.ahead.length > longest.ahead.length ? car : longest), null);
  let ahead: readonly TrainCar[] = tail === null ? [] : [...tail.ahead, { issue: tail.issue, headSha: tail.headSha }];
  const length = run.settings.train ?? 1;
  const seated = new Set(cars.filter((car) => !isVoid(state, car, cars)).map((car) => car.issue));
  for (const n of run.order) {
    if (ahead.length >= length) break;
    const record = state.issues[n];
    if (record === undefined || record.pushedSha === null || seated.has(n) || !mayJoin(state, record, inFlight)) continue;
    joins.set(n, ahead);
    ahead = [...ahead, { issue: n, headSha: record.pushedSha }];
  }
  return joins;
}

function carsOf(state: CoordinatorState, inFlight: readonly Action[]): readonly Car[] {
  const cars = new Map<number, Car>();
  for (const record of Object.values(state.issues)) {
    const landing = record.landing;
    if (landing == null || isSettled(record) || landing.headSha !== record.pushedSha) continue;
    const ahead = carsAhead(state, landing);
    if (ahead !== null) cars.set(record.number, { issue: record.number, headSha: landing.headSha, epoch: landing.epoch, ahead, result: landing.result });
  }
  // A verification under way stands for the issue: what it records replaces what was there.
  for (const action of inFlight) {
    if (action.type !== "VerifyLanding") continue;
    const ahead = carsAhead(state, action);
    if (ahead !== null) cars.set(action.issue, { issue: action.issue, headSha: action.headSha, epoch: action.epoch, ahead, result: "verifying" });
  }
  return [...cars.values()];
}

/** Each car ahead must still be coming: the same head, not ended or paused, verifying or passed on the same cars ahead of it. */
function isVoid(state: CoordinatorState, car: Car, cars: readonly Car[]): boolean {
  return car.ahead.some((front, index) => {
    const record = state.issues[front.issue];
    if (record === undefined || isSettled(record) || record.paused || record.pushedSha !== front.headSha) return true;
    const seen = cars.find((other) => other.issue === front.issue);
    if (seen === undefined || seen.headSha !== front.headSha || (seen.result !== "verifying" && seen.result !== "passed")) return true;
    return !sameCars(seen.ahead, car.ahead.slice(0, index));
  });
}

function sameCars(a: readonly TrainCar[], b: readonly TrainCar[]): boolean {
  return a.length === b.length && a.every((car, i) => {
    const other = b[i];
    return other !== undefined && car.issue === other.issue && car.headSha === other.headSha;
  });
}

/** Held only by the landing gate, with nothing of its own under way: a merge candidate the train may take. */
function mayJoin(state: CoordinatorState, record: IssueRecord, inFlight: readonly Action[]): boolean {
  if (isSettled(record) || record.paused || mergeGateHolding(state, record) !== "landing") return false;
  return !inFlight.some((action) => action.type !== "Finish" && action.issue === record.number && CHECKOUT_ACTIONS.has(action.type));
}

/** Kinds of world action that move or read an issue's one checkout. */
export const CHECKOUT_ACTIONS: ReadonlySet<Action["type"]> = new Set(["Launch", "Verify", "VerifyLanding", "VerifyBase", "Restack", "Push"]);
