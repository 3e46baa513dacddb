import type { StoredEvent } from "../coordinator-store/port.ts";
import { UserError } from "../errors.ts";
import { decodeEvent, EventCodecError } from "./codec.ts";
import type { CoordinatorEvent } from "./events.ts";
import { apply, initialState, type CoordinatorState } from "./state.ts";

/**
 * Reading a run's log back into its state without letting one bad event
 * brick the project: an event that cannot be decoded (unknown type, fields
 * that do not fit, no upcaster) or whose fold throws is skipped and named by
 * its sequence number, and the rest is folded as usual. A view shows the run
 * with its problems; a resume refuses with a way out (`--abandon`), which
 * appends a `RunFinished` after them so a new run can start.
 */

export interface LogProblem {
  /** The event's sequence number in the store. */
  readonly seq: number;
  readonly type: string;
  readonly reason: string;
}

export interface ReadLog {
  readonly state: CoordinatorState;
  readonly problems: readonly LogProblem[];
  /** The events that were applied, in order: what the report's time splits and review walk (a problem's event is left out). */
  readonly events: readonly CoordinatorEvent[];
}

export function replayLog(rows: Iterable<Pick<StoredEvent, "seq" | "type" | "at" | "data">>): ReadLog {
  let state = initialState();
  const problems: LogProblem[] = [];
  const events: CoordinatorEvent[] = [];
  for (const row of rows) {
    try {
      const event = decodeEvent(row);
      state = apply(state, event);
      events.push(event);
    } catch (error) {
      const reason = error instanceof EventCodecError ? error.reason : `its fold failed: ${error instanceof Error ? error.message : String(error)}`;
      problems.push({ seq: row.seq, type: row.type, reason });
    }
  }
  return { state, problems, events };
}

/** One line per problem, for people. */
export function describeLogProblem(problem: LogProblem): string {
  return `event #${String(problem.seq)} (${problem.type}) cannot be applied: ${problem.reason}`;
}

/** Why an unfinished run with a bad event cannot be carried on, and the way out. */
export function unreadableRunError(runId: string, problems: readonly LogProblem[]): UserError {
  const [first] = problems;
  const what = first === undefined ? "has events that cannot be applied" : describeLogProblem(first);
  const more = problems.length > 1 ? ` (and ${String(problems.length - 1)} more)` : "";
  return new UserError(`run ${runId} cannot be resumed: ${what}${more}`, {
    hint: "cspace coordinate --abandon ends this run (its log is kept: cspace status still shows it); then cspace coordinate <issues…> starts a new one",
  });
}
