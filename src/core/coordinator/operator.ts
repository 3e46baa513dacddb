import type { CoordinatorEvent } from "./events.ts";
import { isMerged } from "./queries.ts";
import type { CoordinatorState } from "./state.ts";

/**
 * What a person can tell a running coordinator with `cspace send
 * _coordinator "<command>"` on the host. Each becomes one event in the log
 * (design: operator commands are events, safe to repeat): pausing what is
 * paused changes nothing.
 */
export type OperatorCommand =
  | { readonly kind: "pause"; readonly issue: number | null }
  | { readonly kind: "resume"; readonly issue: number | null }
  | { readonly kind: "skip"; readonly issue: number; readonly reason: string };

export const OPERATOR_USAGE = [
  "pause            hold launches and merges for the whole run (agents already working go on)",
  "pause <N>        hold issue N",
  "resume           lift a run-wide pause",
  "resume <N>       lift issue N's pause",
  "skip <N> [why]   give up on issue N: it ends blocked by you, and so do its dependents",
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
  }
  switch (command.kind) {
    case "pause":
      return { ok: true, value: { type: "Paused", at, issue: command.issue } };
    case "resume":
      return { ok: true, value: { type: "Resumed", at, issue: command.issue } };
    case "skip":
      return { ok: true, value: { type: "Skipped", at, issue: command.issue, reason: command.reason } };
  }
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
  }
}

function issueNumber(text: string): number | null {
  const n = Number(text.replace(/^#/, ""));
  return Number.isInteger(n) && n > 0 ? n : null;
}

function bad(error: string): { readonly ok: false; readonly error: string } {
  return { ok: false, error };
}
