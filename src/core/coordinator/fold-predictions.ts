import { z } from "zod";
import { defineEvent, eventGroup } from "./event-registry.ts";
import { predictionsOf, shownPaths, type PredictionsState } from "./predictions.ts";
import type { CoordinatorState } from "./state.ts";
import { count, issueNumber, list, text, timestamp } from "./vocabulary-schemas.ts";

/**
 * Conflicts seen coming (predictions.ts): what a prediction round found, what
 * the later agent was told, and the conflicts branches met, so the report can
 * say how many were predicted, how early, and how many were missed.
 * (See event-registry.ts for how an event is declared.)
 */

const sha = text;

export const predictionEvents = eventGroup(
  /**
   * A prediction round found this pair will conflict: `later` merges after
   * `earlier` (null: the feature branch as it is) and a merge-tree of their
   * heads stops on `paths`. Once per (pair, heads): the same key again changes nothing.
   */
  defineEvent("ConflictPredicted", {
    version: 1,
    fields: z.object({
      key: text,
      earlier: issueNumber.nullable(),
      earlierBranch: text,
      earlierSha: sha,
      later: issueNumber,
      laterSha: sha,
      paths: list(text),
      hunks: text,
      working: z.boolean(),
    }),
    line: (event) =>
      `#${String(event.later)} will conflict with ${event.earlierBranch} in ${shownPaths(event.paths)}${event.earlier === null ? "" : ` (#${String(event.earlier)} merges first)`}`,
    apply: (state, event) =>
      withPredictions(state, (predictions) => {
        if (predictions.conflicts.some((conflict) => conflict.key === event.key)) return predictions;
        const { key, earlier, earlierBranch, earlierSha, later, laterSha, paths, hunks, working, at } = event;
        return { ...predictions, conflicts: [...predictions.conflicts, { key, earlier, earlierBranch, earlierSha, later, laterSha, paths, hunks, working, at, told: null }] };
      }),
  }),
  /**
   * A prediction round ended: the inputs it was for (`predictionSignature`),
   * how many pairs it asked about, how long it took, and the keys of every
   * conflict it found (new or predicted before): the predictions that hold now.
   */
  defineEvent("ConflictsChecked", {
    version: 1,
    fields: z.object({ signature: text, pairs: count, ms: count, current: list(text), error: text.nullable() }),
    line: (event) => (event.error === null ? null : `conflict prediction skipped: ${event.error}`),
    apply: (state, event) => withPredictions(state, (predictions) => ({ ...predictions, checked: event.signature, current: event.current })),
  }),
  /** The later agent was sent the prediction while it worked (`delivered`: its supervisor queued the message). */
  defineEvent("ConflictWarned", {
    version: 1,
    fields: z.object({ key: text, issue: issueNumber, delivered: z.boolean(), error: text.nullable() }),
    line: (event) => (event.delivered ? `#${String(event.issue)} told of the conflict coming` : `#${String(event.issue)} could not be told of the conflict coming: ${event.error ?? "?"}`),
    apply: (state, event) =>
      withPredictions(state, (predictions) => {
        const told = { at: event.at, delivered: event.delivered, error: event.error };
        if (!predictions.conflicts.some((conflict) => conflict.key === event.key && conflict.told === null)) return predictions;
        return { ...predictions, conflicts: predictions.conflicts.map((conflict) => (conflict.key === event.key && conflict.told === null ? { ...conflict, told } : conflict)) };
      }),
  }),
  /**
   * The issue met a conflict (`restack`: the mechanical restack stopped;
   * `forge`: the forge called its pull request conflicting), with the
   * predictions it proves right: the earliest one's time, or null when none
   * came before (a missed conflict). Once per meeting key.
   */
  defineEvent("ConflictMet", {
    version: 1,
    fields: z.object({
      issue: issueNumber,
      how: z.enum(["restack", "forge"]),
      key: text,
      paths: list(text),
      predictedAt: timestamp.nullable(),
      predictions: list(text),
    }),
    line: (event) =>
      `#${String(event.issue)} met a conflict in ${shownPaths(event.paths)} (${event.how === "restack" ? "restack" : "the forge"}): ${event.predictedAt === null ? "not predicted" : `predicted at ${event.predictedAt.slice(11, 19)}`}`,
    apply: (state, event) =>
      withPredictions(state, (predictions) => {
        if (predictions.met.some((m) => m.issue === event.issue && m.key === event.key)) return predictions;
        const { issue, how, key, paths, at, predictedAt, predictions: proven } = event;
        return { ...predictions, met: [...predictions.met, { issue, how, key, paths, at, predictedAt, predictions: proven }] };
      }),
  }),
);

function withPredictions(state: CoordinatorState, update: (predictions: PredictionsState) => PredictionsState): CoordinatorState {
  const predictions = predictionsOf(state);
  const next = update(predictions);
  return next === predictions ? state : { ...state, predictions: next };
}
