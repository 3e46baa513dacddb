import { spawn } from "node:child_process";
import type { Invocation } from "../../core/agents/preset.ts";
import { LineSplitter } from "../../adapters/messaging/lines.ts";
import { identityOf, signalGroup, type ProcessIdentity } from "./proc.ts";

/** How an agent process ended. `spawnError`: it never ran (executable missing, workdir gone). */
export interface AgentExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly spawnError: string | null;
}

export interface AgentCallbacks {
  stdoutLine(line: string): void;
  stderrLine(line: string): void;
  /** A line longer than the limit was skipped (it is not parsed). */
  overlong(stream: "stdout" | "stderr"): void;
}

/** Agent output lines can be large (a tool result in stream-json); past this a line is skipped, not buffered. */
const MAX_AGENT_LINE_BYTES = 32 * 1024 * 1024;
/** After the agent exits, how long its output pipes may stay open (held by a process it left behind). */
const PIPE_DRAIN_MS = 2000;

/**
 * One run of the agent: spawned detached so it leads its own process group
 * (signals reach the tools it started too), stdout and stderr read line by
 * line, stdin written per the preset's plan.
 */
export class AgentProcess {
  readonly identity: ProcessIdentity | null;
  readonly exited: Promise<AgentExit>;
  #stdinOpen: boolean;
  readonly #write: (text: string) => void;
  readonly #end: () => void;

  /** `notStarted`: the preset could not say what to run; this run ends at once with that reason. */
  constructor(invocation: Invocation, cwd: string, env: NodeJS.ProcessEnv, callbacks: AgentCallbacks, notStarted: string | null = null) {
    const [executable, ...args] = invocation.argv;
    if (executable === undefined || notStarted !== null) {
      this.identity = null;
      this.#stdinOpen = false;
      this.#write = () => undefined;
      this.#end = () => undefined;
      this.exited = Promise.resolve({ code: null, signal: null, spawnError: notStarted ?? "the preset gave an empty command line" });
      return;
    }
    const child = spawn(executable, args, { cwd, env: { ...env, ...invocation.env }, stdio: ["pipe", "pipe", "pipe"], detached: true });
    this.identity = child.pid === undefined ? null : identityOf(child.pid);
    const stdout = new LineSplitter(MAX_AGENT_LINE_BYTES, { line: (line) => { callbacks.stdoutLine(line); }, overflow: () => { callbacks.overlong("stdout"); } });
    const stderr = new LineSplitter(MAX_AGENT_LINE_BYTES, { line: (line) => { callbacks.stderrLine(line); }, overflow: () => { callbacks.overlong("stderr"); } });
    child.stdout.on("data", (chunk: Buffer) => { stdout.push(chunk); });
    child.stderr.on("data", (chunk: Buffer) => { stderr.push(chunk); });
    // An agent that exits without reading its stdin makes our writes fail with EPIPE: not our failure.
    child.stdin.on("error", () => { this.#stdinOpen = false; });
    this.#stdinOpen = true;
    this.#write = (text) => { child.stdin.write(text); };
    this.#end = () => { child.stdin.end(); };

    this.exited = new Promise((resolve) => {
      let spawnError: string | null = null;
      let settled = false;
      const settle = (code: number | null, signal: NodeJS.Signals | null): void => {
        if (settled) return;
        settled = true;
        stdout.end();
        stderr.end();
        this.#stdinOpen = false;
        resolve({ code, signal, spawnError });
      };
      child.once("error", (error) => {
        spawnError = error.message;
        // A failed spawn emits no 'exit'.
        if (child.pid === undefined) settle(null, null);
      });
      // 'close' comes once the output pipes are drained, so every line is parsed before the report...
      child.once("close", (code, signal) => { settle(code, signal); });
      // ...but a background process the agent left holding its stdout would keep them open forever.
      child.once("exit", (code, signal) => {
        setTimeout(() => {
          child.stdout.destroy();
          child.stderr.destroy();
          settle(code, signal);
        }, PIPE_DRAIN_MS);
      });
    });

    switch (invocation.stdin.kind) {
      case "none":
        this.closeStdin();
        break;
      case "text":
        this.#write(invocation.stdin.text);
        this.closeStdin();
        break;
      case "stream":
        for (const line of invocation.stdin.lines) this.writeLine(line);
        break;
    }
  }

  get stdinOpen(): boolean {
    return this.#stdinOpen;
  }

  writeLine(line: string): boolean {
    if (!this.#stdinOpen) return false;
    this.#write(line.endsWith("\n") ? line : `${line}\n`);
    return true;
  }

  closeStdin(): void {
    if (!this.#stdinOpen) return;
    this.#stdinOpen = false;
    this.#end();
  }

  signal(signal: NodeJS.Signals): void {
    if (this.identity !== null) signalGroup(this.identity.pid, signal);
  }
}
