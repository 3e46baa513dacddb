import type { Attempt, CoordinatorState, IssueRecord } from "./state.ts";

// The folds' shared helpers live apart from state.ts, which imports the folds: one direction only.

/** The state with issue `n` replaced by `update(record)`; unchanged when `n` is not in the run or `update` returns the same record. */
export function updateIssue(state: CoordinatorState, n: number, update: (record: IssueRecord) => IssueRecord): CoordinatorState {
  const record = state.issues[n];
  if (record === undefined) return state;
  const next = update(record);
  return next === record ? state : { ...state, issues: { ...state.issues, [n]: next } };
}

/** Replaces the last attempt. */
export function updateLastAttempt(record: IssueRecord, update: (attempt: Attempt) => Attempt): IssueRecord {
  const last = record.attempts[record.attempts.length - 1];
  if (last === undefined) return record;
  const next = update(last);
  return next === last ? record : { ...record, attempts: [...record.attempts.slice(0, -1), next] };
}
