import type { UsageLimit } from "./usage-limit.ts";

/**
 * An agent preset: how one agent CLI is started, fed follow-up messages,
 * resumed, and read. Presets are data plus small pure functions, run by the
 * supervisor inside the container (bundled for Node 18) and read by the host
 * (doctor, warm's executable check, README). No I/O here.
 */

export interface StartInput {
  /** The first turn's text (the rendered prompt, or the original prompt plus a restart's reason). */
  readonly prompt: string;
  /** Where the prompt is as a file inside the container, for CLIs that read one. */
  readonly promptFile: string;
  readonly model: string | null;
  /** Resume this session instead of starting one (restart), where the preset can. */
  readonly resumeSessionId: string | null;
  /** agent.command, for the `command` preset. */
  readonly command: string | null;
  /** agent.commandInput, for the `command` preset (absent: per-message). */
  readonly commandInput?: "per-message" | "stream" | undefined;
}

/** What goes to the agent's stdin. */
export type StdinPlan =
  /** Closed at once. */
  | { readonly kind: "none" }
  /** This text, then closed. */
  | { readonly kind: "text"; readonly text: string }
  /** These lines now, and kept open: follow-up messages are written as further lines. */
  | { readonly kind: "stream"; readonly lines: readonly string[] };

export interface Invocation {
  readonly argv: readonly string[];
  readonly stdin: StdinPlan;
  /** Extra environment for this agent (never credentials: those come from config by name). */
  readonly env?: Readonly<Record<string, string>>;
}

/**
 * How a message reaches a running agent. When a session-keeping preset's
 * process is gone (exited, or a restart), a message starts it again with
 * `start({ ...input, prompt: text, resumeSessionId })` instead.
 */
export type FollowUp =
  /** A line on the open stdin: a real new user turn mid-session (Claude Code stream-json). */
  | { readonly kind: "stdin"; readonly line: string }
  /** A new invocation once the current one has exited, resuming its session where possible. */
  | { readonly kind: "invoke"; readonly invocation: Invocation };

/** What one line of the agent's stdout says. Every field is optional: most lines say little. */
export interface LineFacts {
  /** Human-readable events for events.ndjson and `cspace logs`. */
  readonly events: readonly { readonly type: string; readonly text?: string; readonly data?: unknown }[];
  readonly sessionId?: string;
  /** A turn ended: the agent is idle (for session-keeping presets) and may take the next message. */
  readonly turnEnded?: boolean;
  /**
   * Turns this line ends, to add to the count: one for each answer to a user
   * turn (a `result`, `turn.completed`, …). Counted, not read as a total,
   * because no agent states a session-wide turn count the same way.
   */
  readonly addTurns?: number;
  /**
   * A running total of cost in US dollars, where the agent states one:
   * Claude Code's `total_cost_usd` (the session's total, carried over by
   * `--resume`), aider's "$X session" (the process's). Never added up as it
   * is: UsageLedger counts what it grew by within the session.
   */
  readonly costUsd?: number;
  /**
   * This line's own share of the cost, to add: a step's cost (opencode), or
   * the cost since the previous result (Claude Code's
   * `model_usage_since_last_result`). Preferred to `costUsd` when both are given.
   */
  readonly addCostUsd?: number;
  /** Tokens this line's turn used, where the agent states tokens and no cost (Codex, Gemini CLI): priced by `coordinator.prices`. */
  readonly addTokens?: { readonly input: number; readonly output: number };
  /** The agent's final message for the report. */
  readonly finalText?: string;
  /** A chunk of the agent's message: chunks in a row are one message, the last message the final text (FinalText). */
  readonly finalTextDelta?: string;
  /** An error the agent reported in-band. */
  readonly isError?: boolean;
  /** The agent said its account hit a usage limit (usage-limit.ts): the run parks, it does not fail. */
  readonly usageLimit?: UsageLimit;
}

export interface AgentPreset {
  readonly name: string;
  /** The executable that must be on the container user's PATH. */
  readonly executable: string;
  /**
   * The npm package that provides it, pinned (`name@version`): installed as
   * root at the first launch in a container that lacks the executable
   * (`agent.package` names another), or null when it is not on npm.
   */
  readonly npmPackage: string | null;
  /** Whether a session can be resumed by id after the process is gone. */
  readonly resumable: boolean;
  /** Whether the agent keeps running between turns, reading messages on stdin. */
  readonly keepsSession: boolean;
  /**
   * Host variables the CLI reads its own credentials from, as suggestions for
   * `agent.passEnv` (doctor's hints, the README). Never a forge token.
   */
  readonly credentialEnv: readonly string[];
  /**
   * The hosts the CLI talks to (its model API, telemetry it cannot work
   * without): what `@agent` in `container.network.allow` stands for. Empty
   * for agents that need none, or whose hosts depend on the model (aider).
   */
  readonly networkHosts: readonly string[];
  start(input: StartInput): Invocation;
  /** How to deliver `text` now; `sessionId` is the session so far (null when unknown). */
  followUp(text: string, state: { readonly sessionId: string | null; readonly input: StartInput }): FollowUp;
  /** Reads one stdout line (without its newline). */
  parseLine(line: string): LineFacts;
  /**
   * Reads one stderr line, for a CLI that says something worth an event only
   * there (Gemini CLI's API retries): the events it stands for, or none, and
   * the line is kept as a `stderr` event. Absent: every line is kept as it is.
   */
  readonly parseStderrLine?: (line: string) => LineFacts["events"];
  /**
   * Whether the agent only exits once its stdin is closed: Claude Code in
   * stream-json mode waits for the next user turn forever, so the supervisor
   * closes stdin when a turn ends and no message is queued. False for agents
   * that end by themselves (the scripted agent, one-shot invocations).
   */
  readonly closeStdinToFinish: boolean;
  /**
   * Whether a message may go to the agent's stdin while it works, not only
   * between turns: for an agent that never says a turn ended (a streaming
   * `command`). Absent: only between turns.
   */
  readonly takesMessagesWhileWorking?: (input: StartInput) => boolean;
}
