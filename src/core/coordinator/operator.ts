import type { CoordinatorEvent } from "./events.ts";
import { isMerged, isSettled } from "./queries.ts";
import type { CoordinatorState, IssueRecord } from "./state.ts";

/**
 * What a person can tell a running coordinator with `cspace send
 * _coordinator "<command>"` on the host. Each becomes one event in the log
 * (design: operator commands are events, safe to repeat): pausing what is
 * paused changes nothing.
 */
export type OperatorCommand =
  | { readonly kind: "pause"; readonly issue: number | null }
  | { readonly kind: "resume"; readonly issue: number | null }
  | { readonly kind: "skip"; readonly issue: number; readonly reason: string }
  | { readonly kind: "reset"; readonly issue: number };

export const OPERATOR_USAGE = [
  "pause            hold launches and merges for the whole run (agents already working go on)",
  "pause <N>        hold issue N",
  "resume           lift a run-wide pause",
  "resume <N>       lift issue N's pause",
  "skip <N> [why]   give up on issue N: it ends blocked by you, and so do its dependents",
  "reset <N>        before issue N starts: discard the issue-N an earlier run left (it starts fresh from its base)",
].join("\n");

export type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

export function parseOperatorCommand(text: string): Parsed<OperatorCommand> {
  const [verb = "", target, ...rest] = text.trim().split(/\s+/);
  const issue = target === undefined ? null : issueNumber(target);
  switch (verb.toLowerCase()) {
    case "pause":
    case "resume": {
      if (rest.length > 0 || (target !== undefined && issue === null)) return bad(`${verb} takes at most an issue number, like "${verb} 12"`);
      return { ok: true, value: { kind: verb.toLowerCase() as "pause" | "resume", issue } };
    }
    case "skip": {
      if (issue === null) return bad('skip needs an issue number, like "skip 12 the schema is not decided"');
      return { ok: true, value: { kind: "skip", issue, reason: rest.join(" ") || "skipped by the operator" } };
    }
    case "reset": {
      if (issue === null || rest.length > 0) return bad('reset takes one issue number, like "reset 12"');
      return { ok: true, value: { kind: "reset", issue } };
    }
    default:
      return bad(`"${text.trim().slice(0, 60)}" is not a coordinator command`);
  }
}

/** The event a command records in this state, or why it cannot apply (an issue not in the run, one already merged). */
export function operatorEvent(state: CoordinatorState, command: OperatorCommand, at: string): Parsed<CoordinatorEvent> {
  if (command.issue !== null) {
    const record = state.issues[command.issue];
    if (record === undefined) {
      const inRun = Object.keys(state.issues).map((n) => `#${n}`).join(", ");
      return bad(`#${String(command.issue)} is not in this run (${inRun})`);
    }
    if (command.kind === "skip" && isMerged(record)) return bad(`#${String(command.issue)} is merged already: there is nothing to skip`);
    if (command.kind === "reset") {
      const refusal = resetRefusal(record);
      if (refusal !== null) return bad(refusal);
    }
  }
  switch (command.kind) {
    case "pause":
      return { ok: true, value: { type: "Paused", at, issue: command.issue } };
    case "resume":
      return { ok: true, value: { type: "Resumed", at, issue: command.issue } };
    case "skip":
      return { ok: true, value: { type: "Skipped", at, issue: command.issue, reason: command.reason } };
    case "reset":
      return { ok: true, value: { type: "FreshStartRequested", at, issue: command.issue, by: "operator" } };
  }
}

/**
 * Why `reset N` cannot apply: it discards an earlier run's branch at the
 * issue's first launch, so an issue that already started in this run (its
 * branch is this run's work now) or ended is refused, saying what to do.
 */
function resetRefusal(record: IssueRecord): string | null {
  const n = `#${String(record.number)}`;
  if (isSettled(record)) return `${n} has ended in this run (${isMerged(record) ? "merged" : (record.outcome?.kind ?? "settled")}): there is nothing to reset; cspace coordinate --fresh ${String(record.number)} starts it over in a new run`;
  if (record.attempts.length > 0) {
    return `${n} has started in this run already (attempt ${String(record.attempts.length)}): reset only applies before its first launch; cspace coordinate --fresh ${String(record.number)} starts it over in a new run`;
  }
  return null;
}

/** What the coordinator tells the sender it did. */
export function operatorDone(command: OperatorCommand): string {
  const what = command.issue === null ? "the run" : `#${String(command.issue)}`;
  switch (command.kind) {
    case "pause":
      return `paused ${what}: no launch or merge until resume; agents already working go on`;
    case "resume":
      return `resumed ${what}`;
    case "skip":
      return `skipped ${what} (${command.reason}); its dependents are blocked`;
    case "reset":
      return `${what} will start fresh from its base at its first launch: the issue-${String(command.issue)} an earlier run left is discarded`;
  }
}

function issueNumber(text: string): number | null {
  const n = Number(text.replace(/^#/, ""));
  return Number.isInteger(n) && n > 0 ? n : null;
}

function bad(error: string): { readonly ok: false; readonly error: string } {
  return { ok: false, error };
}
