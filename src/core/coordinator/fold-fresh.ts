import { z } from "zod";
import { defineEvent, eventGroup } from "./event-registry.ts";
import { isSettled } from "./queries.ts";
import { updateIssue } from "./update.ts";
import { issueNumber } from "./vocabulary-schemas.ts";

/**
 * A fresh start for an issue. `issue-N` outlives a run: a failed issue's
 * branch stays on the forge and in the store, and the next run's first launch
 * finds it. By default that launch carries the earlier work over, replayed
 * onto the current base (services/coordinate/execute.ts says so in the
 * progress line and the prompt). `cspace coordinate --fresh N`, or `reset N`
 * to a running coordinator before N starts, discards it instead: the first
 * launch moves `issue-N` (on the forge, then in the worker's checkout) back to
 * its base, and the pull request left open by the earlier run is reused for
 * the new work.
 */
export const freshEvents = eventGroup(
  /** `by`: `--fresh` on the command line, or the operator's `reset`. Only an issue not launched yet in this run takes it. */
  defineEvent("FreshStartRequested", {
    version: 1,
    fields: z.object({ issue: issueNumber, by: z.enum(["flag", "operator"]) }),
    line: (event) => `#${String(event.issue)} will start fresh from its base: an earlier run's issue-${String(event.issue)} is discarded at its first launch`,
    apply: (state, event) =>
      updateIssue(state, event.issue, (record) => (record.freshStart || record.attempts.length > 0 || isSettled(record) ? record : { ...record, freshStart: true })),
  }),
);
