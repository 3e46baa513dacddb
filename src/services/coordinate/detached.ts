import { spawn } from "node:child_process";
import { open, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { ensureRunDir } from "../../adapters/run-dir.ts";
import { openProject } from "../project.ts";

/**
 * `cspace coordinate` on a terminal: the coordinator runs in a child process
 * of its own session (`detached`), so the terminal's view can go (`q`, a
 * closed terminal) while the run goes on. Its output goes to
 * `<run dir>/coordinator.log`, and it says which run it opened on a pipe
 * (`--ready-fd 3`), so the view follows that run and no earlier one.
 */

/** The child's output, next to its sockets: the run directory is the user's own (0700). */
export const COORDINATOR_LOG = "coordinator.log";

export interface DetachedCoordinator {
  readonly pid: number;
  readonly logFile: string;
  /** The run the child opened; null when it exited before opening one (bad input, another coordinator, …). */
  readonly opened: Promise<string | null>;
  readonly exited: Promise<ChildExit>;
  /** What the child wrote since it started (its progress lines, its report, its error). */
  output(): Promise<string>;
  /** Sends the child a signal (SIGINT stops the run as Ctrl-C does). */
  signal(name: NodeJS.Signals): void;
  /** Lets this process end while the child goes on. */
  release(): void;
}

export interface ChildExit {
  /** The exit code, or 128 + the signal's number when a signal ended it. */
  readonly code: number;
}

export interface DetachedOptions {
  /** The project's directory (where its run directory is found). */
  readonly cwd: string;
  /** Where the child starts: the command's own working directory, as its arguments were given there. */
  readonly processCwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** How to run cspace again: Node, and its arguments up to the command (the bin script). */
  readonly node: string;
  readonly entry: readonly string[];
  /** The command's own arguments as given (the child gets `--no-tui --ready-fd 3` after them). */
  readonly args: readonly string[];
}

const SIGNAL_NUMBERS: Readonly<Partial<Record<NodeJS.Signals, number>>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export async function startDetachedCoordinator(options: DetachedOptions): Promise<DetachedCoordinator> {
  const project = await openProject({ cwd: options.cwd, env: options.env });
  await ensureRunDir(project.runDirSpec);
  const logFile = path.join(project.runDir, COORDINATOR_LOG);
  const log = await open(logFile, "a", 0o600);
  const from = (await stat(logFile)).size;
  const child = spawn(options.node, [...options.entry, ...options.args, "--no-tui", "--ready-fd", "3"], {
    cwd: options.processCwd,
    env: options.env,
    detached: true,
    stdio: ["ignore", log.fd, log.fd, "pipe"],
  });
  // The child has its own copy of the descriptor.
  await log.close();
  const ready = child.stdio[3] as Readable | null;
  const exited = new Promise<ChildExit>((resolve) => {
    child.once("exit", (code, signal) => {
      resolve({ code: code ?? 128 + (signal === null ? 0 : (SIGNAL_NUMBERS[signal] ?? 0)) });
    });
    child.once("error", () => {
      resolve({ code: 4 });
    });
  });
  const opened = new Promise<string | null>((resolve) => {
    if (ready === null) {
      resolve(null);
      return;
    }
    let text = "";
    ready.setEncoding("utf8");
    ready.on("data", (chunk: string) => {
      text += chunk;
      const line = text.split("\n")[0];
      if (text.includes("\n") && line !== undefined) resolve(line.trim() === "" ? null : line.trim());
    });
    ready.once("close", () => {
      resolve(null);
    });
    ready.once("error", () => {
      resolve(null);
    });
  });
  return {
    pid: child.pid ?? 0,
    logFile,
    opened,
    exited,
    output: async () => {
      const handle = await open(logFile, "r");
      try {
        const size = (await handle.stat()).size;
        const buffer = Buffer.alloc(Math.max(0, size - from));
        await handle.read(buffer, 0, buffer.length, from);
        return buffer.toString("utf8");
      } finally {
        await handle.close();
      }
    },
    signal: (name) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(name);
    },
    release: () => {
      ready?.destroy();
      child.unref();
    },
  };
}
