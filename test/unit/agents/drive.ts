import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { AgentPreset, Invocation, LineFacts, StartInput } from "../../../src/core/agents/preset.ts";
import { UsageLedger } from "../../../src/core/agents/usage-ledger.ts";
import { FinalText } from "../../../src/core/agents/final-text.ts";
import { WORKER_BUNDLE_DIR } from "../../../src/core/messaging/layout.ts";

/**
 * A small supervisor for tests: runs a preset's invocations as real
 * processes (stand-ins on PATH, or the scripted agent), feeds stdin as the
 * StdinPlan says, delivers follow-ups as the preset says, and reads stdout
 * with parseLine, keeping turns and cost the way AgentPreset documents.
 */

export const FIXTURES = fileURLToPath(new URL("../../fixtures/agents/", import.meta.url));
const SCRIPTED_ENTRY = path.join(FIXTURES, "scripted-agent.ts");

export interface Run {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

export interface Driven {
  readonly runs: readonly Run[];
  readonly sessionId: string | null;
  readonly turns: number;
  readonly costUsd: number | null;
  readonly finalText: string | null;
  readonly isError: boolean;
  /** The last usage limit the agent said it hit. */
  readonly usageLimit: LineFacts["usageLimit"] | null;
  readonly events: LineFacts["events"];
  /** Every stdout line, for a failing assertion's message. */
  readonly lines: readonly string[];
}

export interface DriveOptions {
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Messages, each delivered when a turn ends (session-keeping presets) or after the last invocation exits. */
  readonly messages?: readonly string[];
}

export function startInput(overrides: Partial<StartInput> = {}): StartInput {
  return { prompt: "Fix issue 12", promptFile: "/run/cspace/prompt.md", model: null, resumeSessionId: null, command: null, ...overrides };
}

/** The executable and arguments a test can run: the scripted agent from its source, everything else from PATH. */
function runnable(argv: readonly string[]): [string, string[]] {
  const [first = "", second, ...rest] = argv;
  if (first === "node" && second === `${WORKER_BUNDLE_DIR}/worker.cjs` && rest[0] === "scripted") return [process.execPath, [SCRIPTED_ENTRY, ...rest.slice(1)]];
  return [first, [second, ...rest].filter((arg): arg is string => arg !== undefined)];
}

export async function drive(preset: AgentPreset, input: StartInput, options: DriveOptions): Promise<Driven> {
  const messages = [...(options.messages ?? [])];
  const state = { sessionId: null as string | null, turns: 0, cost: 0, costSeen: false, isError: false };
  const finalText = new FinalText();
  // Cost is counted the way the supervisor counts it: each line's own share.
  const ledger = new UsageLedger();
  if (input.resumeSessionId !== null) ledger.resumed(input.resumeSessionId);
  const events: LineFacts["events"][number][] = [];
  const lines: string[] = [];
  const runs: Run[] = [];
  let usageLimit: LineFacts["usageLimit"] | null = null;
  let next: Invocation | null = preset.start(input);
  while (next !== null) {
    const key = `run ${String(runs.length + 1)}`;
    const run = await runOnce(next, options, (line, writeLine, endStdin) => {
      lines.push(line);
      const facts = preset.parseLine(line);
      events.push(...facts.events);
      const share = ledger.share(facts, facts.sessionId ?? state.sessionId ?? key);
      if (facts.sessionId !== undefined) state.sessionId = facts.sessionId;
      state.turns += facts.addTurns ?? 0;
      if (share !== null) {
        state.cost += share;
        state.costSeen = true;
      }
      finalText.take(facts);
      if (facts.isError === true) state.isError = true;
      if (facts.usageLimit !== undefined) usageLimit = facts.usageLimit;
      if (facts.turnEnded !== true || next?.stdin.kind !== "stream") return;
      const message = messages.shift();
      if (message !== undefined) {
        const followUp = preset.followUp(message, { sessionId: state.sessionId, input });
        if (followUp.kind !== "stdin") throw new Error(`${preset.name}: expected a stdin follow-up while the agent runs`);
        writeLine(followUp.line);
      } else if (preset.closeStdinToFinish) {
        endStdin();
      }
    });
    runs.push(run);
    const message = messages.shift();
    if (message === undefined) next = null;
    else {
      const followUp = preset.followUp(message, { sessionId: state.sessionId, input });
      // A session-keeping agent that has exited is started again on its session.
      next = followUp.kind === "invoke" ? followUp.invocation : preset.start({ ...input, prompt: message, resumeSessionId: state.sessionId });
    }
  }
  return {
    runs,
    sessionId: state.sessionId,
    turns: state.turns,
    costUsd: state.costSeen ? Math.round(state.cost * 1e9) / 1e9 : null,
    finalText: finalText.text,
    isError: state.isError,
    usageLimit,
    events,
    lines,
  };
}

type OnLine = (line: string, writeLine: (line: string) => void, endStdin: () => void) => void;

function runOnce(invocation: Invocation, options: DriveOptions, onLine: OnLine): Promise<Run> {
  const [command, args] = runnable(invocation.argv);
  const child = spawn(command, args, { cwd: options.cwd, env: { ...options.env, ...invocation.env }, stdio: ["pipe", "pipe", "pipe"] });
  const stdin = child.stdin;
  // A follow-up written as the agent exits must not fail the test: the exit code will tell.
  stdin.on("error", () => undefined);
  const writeLine = (line: string) => {
    if (!stdin.writableEnded) stdin.write(`${line}\n`);
  };
  const endStdin = () => {
    if (!stdin.writableEnded) stdin.end();
  };
  switch (invocation.stdin.kind) {
    case "none":
      endStdin();
      break;
    case "text":
      stdin.end(invocation.stdin.text);
      break;
    case "stream":
      for (const line of invocation.stdin.lines) writeLine(line);
      break;
  }
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  let buffer = "";
  let failure: Error | null = null;
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf("\n"); end !== -1; end = buffer.indexOf("\n")) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 1);
      try {
        onLine(line, writeLine, endStdin);
      } catch (error) {
        failure ??= error instanceof Error ? error : new Error(String(error));
        endStdin();
      }
    }
  });
  return new Promise((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code, signal) => {
      if (buffer !== "") onLine(buffer, writeLine, endStdin);
      if (failure !== null) reject(failure);
      else resolve({ code, signal, stderr });
    });
  });
}

export interface Recorded {
  readonly cli: string;
  readonly argv: readonly string[];
  readonly stdin: string;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  readonly envNames: readonly string[];
}

/** What the stand-ins recorded, one entry per invocation, in order. */
export function recorded(log: string): Recorded[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Recorded);
}
