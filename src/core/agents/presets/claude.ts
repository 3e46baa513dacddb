import type { AgentPreset, LineFacts, StartInput } from "../preset.ts";
import { epochSecondsToIso, isUsageLimitText, limitMessage } from "../usage-limit.ts";
import { arrayAt, isObject, jsonObject, modelFlag, numberAt, objectAt, plainText, stringAt, NOTHING, type JsonObject } from "./json-line.ts";

/**
 * Claude Code in print mode with stream-json in and out: one long-lived
 * process per session. stdin stays open and every user turn (the prompt,
 * then each `cspace send`) is one line:
 *   {"type":"user","message":{"role":"user","content":[{"type":"text","text":"…"}]}}
 * stdout is one JSON object per line: `system` (subtype `init` carries the
 * session id and comes again at the start of every turn; `api_retry` says
 * the API failed and is being retried), `assistant` (message.content holds
 * text and tool_use blocks), `user` (tool results, and "[Request
 * interrupted by user]" when a turn is interrupted) and `result`, which
 * ends a turn and carries session_id, num_turns, total_cost_usd (a running
 * total for the session: it carries over `--resume`),
 * model_usage_since_last_result (each model's cost since the process's
 * previous result: the result's own share), the final text and is_error.
 * An error result (an API error, a resume of an unknown session) may carry
 * a new random session id, which is not the session. `--verbose` is
 * required by the CLI for stream-json output in print mode. Claude waits
 * for more input after a result, so the session ends when stdin is closed.
 *
 * `--dangerously-skip-permissions`: the agent works unattended inside its
 * own container, which is the sandbox; the supervisor never runs on the
 * host. Claude refuses that flag as root unless IS_SANDBOX=1 says the
 * machine is a disposable sandbox, which a worker container is.
 */
export const claudePreset: AgentPreset = {
  name: "claude",
  executable: "claude",
  npmPackage: "@anthropic-ai/claude-code@2.1.332",
  resumable: true,
  keepsSession: true,
  credentialEnv: ["ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN"],
  networkHosts: ["api.anthropic.com", "statsig.anthropic.com", "sentry.io"],
  closeStdinToFinish: true,
  start: (input: StartInput) => ({
    argv: [
      "claude",
      "-p",
      "--output-format",
      "stream-json",
      "--input-format",
      "stream-json",
      "--verbose",
      "--dangerously-skip-permissions",
      ...modelFlag(input.model),
      ...(input.resumeSessionId === null ? [] : ["--resume", input.resumeSessionId]),
    ],
    stdin: { kind: "stream", lines: [claudeUserTurn(input.prompt)] },
    env: { IS_SANDBOX: "1" },
  }),
  followUp: (text) => ({ kind: "stdin", line: claudeUserTurn(text) }),
  parseLine: parseClaudeLine,
};

/** One user turn on Claude Code's stream-json input. */
export function claudeUserTurn(text: string): string {
  return JSON.stringify({ type: "user", message: { role: "user", content: [{ type: "text", text }] } });
}

export function parseClaudeLine(line: string): LineFacts {
  const event = jsonObject(line);
  if (event === null) return plainText(line);
  const sessionId = stringAt(event, "session_id");
  const session = sessionId === undefined ? {} : { sessionId };
  switch (stringAt(event, "type") ?? "") {
    case "system":
      return { events: systemEvents(event, sessionId), ...session };
    case "assistant":
      return { events: assistantEvents(objectAt(event, "message")), ...session };
    case "user":
      return userFacts(objectAt(event, "message"), session);
    case "result":
      return resultFacts(event, session);
    case "rate_limit_event":
      return { ...rateLimitFacts(event), ...session };
    default:
      return sessionId === undefined ? NOTHING : { events: [], ...session };
  }
}

/** `init` (the supervisor shows one per session, not one per turn) and `api_retry`, which would otherwise leave minutes of silence. */
function systemEvents(event: JsonObject, sessionId: string | undefined): LineFacts["events"] {
  switch (stringAt(event, "subtype") ?? "") {
    case "init":
      return [{ type: "started", text: `session ${sessionId ?? "?"}`, data: { model: stringAt(event, "model") } }];
    case "api_retry": {
      const attempt = numberAt(event, "attempt");
      const max = numberAt(event, "max_retries");
      const status = numberAt(event, "error_status") ?? stringAt(event, "error_status");
      const retry = attempt === undefined ? "retrying" : `retry ${String(attempt)}${max === undefined ? "" : ` of ${String(max)}`}`;
      return [{ type: "api-retry", text: `API error ${status === undefined ? "" : `${String(status)}, `}${retry}`, data: { attempt, maxRetries: max, errorStatus: status } }];
    }
    default:
      return [];
  }
}

/** Tool results say nothing worth a line; an interrupted turn does, and ends the run's story. */
function userFacts(message: JsonObject | undefined, session: { sessionId?: string }): LineFacts {
  const interrupted = arrayAt(message, "content").some((block) => isObject(block) && (stringAt(block, "text") ?? "").startsWith(INTERRUPTED));
  return interrupted ? { events: [{ type: "interrupted", text: INTERRUPTED }], ...session, finalText: INTERRUPTED } : { events: [], ...session };
}

const INTERRUPTED = "[Request interrupted by user]";

function assistantEvents(message: ReturnType<typeof objectAt>): LineFacts["events"] {
  return arrayAt(message, "content").flatMap((block) => {
    if (!isObject(block)) return [];
    switch (stringAt(block, "type") ?? "") {
      case "text": {
        const text = stringAt(block, "text");
        return text === undefined || text.trim() === "" ? [] : [{ type: "text", text }];
      }
      case "tool_use":
        return [{ type: "tool", text: stringAt(block, "name") ?? "tool", data: block.input }];
      default:
        return [];
    }
  });
}

/**
 * `rate_limit_event`: Claude Code's word on the subscription's windows, with
 * `status` "allowed", "allowed_warning" or "rejected" (the limit is hit),
 * `resetsAt` (epoch seconds) and `rateLimitType` ("five_hour", "seven_day"…),
 * at the top level or under `rate_limit_info` depending on the release.
 */
function rateLimitFacts(event: JsonObject): LineFacts {
  const info = objectAt(event, "rate_limit_info") ?? event;
  const status = stringAt(info, "status") ?? "";
  if (status !== "rejected") return { events: [] };
  const kind = stringAt(info, "rateLimitType") ?? null;
  const resetsAt = epochSecondsToIso(numberAt(info, "resetsAt"));
  const message = `usage limit${kind === null ? "" : ` (${kind})`} reached${resetsAt === null ? "" : `; resets at ${resetsAt}`}`;
  return { events: [{ type: "usage-limit", text: message, data: { kind, resetsAt } }], usageLimit: { resetsAt, kind, message } };
}

function resultFacts(event: JsonObject, session: { sessionId?: string }): LineFacts {
  const text = stringAt(event, "result");
  const total = numberAt(event, "total_cost_usd");
  const share = sinceLastResult(objectAt(event, "model_usage_since_last_result"));
  const isError = event.is_error === true || (stringAt(event, "subtype") ?? "success") !== "success";
  // "You've hit your 5-hour limit · resets 10:13am (UTC)" (older releases: "Claude AI usage limit reached|<epoch>"):
  // the time in the text has no date, so the rate_limit_event before it gives the reset.
  const limited = isError && text !== undefined && isUsageLimitText(text);
  const epoch = limited ? /\|(\d{9,11})\s*$/.exec(text)?.[1] : undefined;
  const usageLimit = limited ? { usageLimit: { resetsAt: epochSecondsToIso(epoch === undefined ? undefined : Number(epoch)), kind: null, message: limitMessage(text) } } : {};
  return {
    // The CLI's own figures, kept in the events log: what `cspace logs` shows and what the report's cost can be checked against.
    events: [{ type: "result", text: text ?? stringAt(event, "subtype") ?? "", data: { numTurns: numberAt(event, "num_turns"), totalCostUsd: total, costUsdSinceLastResult: share } }],
    // An error result's session id may be a new random one (a resume of an unknown session): never the session to resume.
    ...(isError ? {} : session),
    turnEnded: true,
    addTurns: 1,
    ...(total === undefined ? {} : { costUsd: total }),
    ...(share === undefined ? {} : { addCostUsd: share }),
    ...(text === undefined ? {} : { finalText: text }),
    isError,
    ...usageLimit,
  };
}

/** The cost of the calls since the previous result, summed over models; absent when the CLI did not say ({} says nothing was spent). */
function sinceLastResult(usage: JsonObject | undefined): number | undefined {
  if (usage === undefined) return undefined;
  return Object.values(usage).reduce<number>((sum, model) => sum + (isObject(model) ? (numberAt(model, "costUSD") ?? 0) : 0), 0);
}
