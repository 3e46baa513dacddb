import { z } from "zod";
import { SHOWN_TEXT_CHARS, shownText } from "../messaging/shown-text.ts";
import { defineEvent, eventGroup } from "./event-registry.ts";
import { issueNumber, text } from "./vocabulary-schemas.ts";

/**
 * Notifications sent (core/notify/notification.ts): one event per cause, recorded before it is delivered, so a
 * resumed run sends nothing twice. The state does not change: the notifier reads the causes from the log, and
 * views (the plain lines, the dashboard) show the notification when they see the event.
 */
export const notifyEvents = eventGroup(
  defineEvent("Notified", {
    version: 1,
    fields: z.object({ cause: text, kind: text, issue: issueNumber.nullable(), reason: text }),
    line: (event) => (event.kind === "run-finished" ? null : `needs you: ${shownText(event.reason, SHOWN_TEXT_CHARS)}`),
    apply: (state) => state,
  }),
);
