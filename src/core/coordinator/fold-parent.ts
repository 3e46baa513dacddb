import { z } from "zod";
import { defineEvent, eventGroup } from "./event-registry.ts";
import { issueNumber } from "./vocabulary-schemas.ts";

/**
 * A run of a parent issue's sub-issues (`cspace coordinate --parent 42`).
 * Recorded once, right after `RunStarted`, so a resumed run still knows its
 * parent: the progress comment (coordinator.progressComments) lives there.
 */
export const parentEvents = eventGroup(
  defineEvent("ParentSelected", {
    version: 1,
    fields: z.object({ parent: issueNumber }),
    line: (event) => `the run takes the sub-issues of #${String(event.parent)}`,
    apply: (state, event) => (state.parent === event.parent ? state : { ...state, parent: event.parent }),
  }),
);
