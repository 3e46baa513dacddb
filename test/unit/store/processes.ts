import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const CHILD = fileURLToPath(new URL("./child.ts", import.meta.url));

export interface StoreChild {
  readonly process: ChildProcess;
  readonly pid: number;
  /** The first line starting with `prefix` (waiting for it); rejects if the child exits first, with its stderr. */
  line(prefix: string): Promise<string>;
  /** What it printed on stderr so far. */
  stderr(): string;
  /** Sends SIGKILL and resolves once the child is reaped, so its pid is really gone. */
  kill9(): Promise<void>;
}

/** Starts test/unit/store/child.ts in its own Node process. */
export function startChild(args: readonly string[]): StoreChild {
  const child = spawn(process.execPath, [CHILD, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  const lines: string[] = [];
  let stderr = "";
  let exitedWith: string | undefined;
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const waiter of waiters) waiter();
  };
  createInterface({ input: child.stdout }).on("line", (text) => {
    lines.push(text);
    wake();
  });
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => {
    // "close": the child is reaped and all of its output read.
    child.on("close", (code, signal) => {
      exitedWith = String(code ?? signal);
      wake();
      resolve();
    });
  });
  if (child.pid === undefined) throw new Error("the child process did not start");
  return {
    process: child,
    pid: child.pid,
    line(prefix) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = lines.find((text) => text.startsWith(prefix));
          if (found !== undefined) {
            waiters.delete(check);
            resolve(found);
          } else if (exitedWith !== undefined) {
            waiters.delete(check);
            reject(new Error(`the child exited (${exitedWith}) before printing "${prefix}": ${stderr}`));
          }
        };
        waiters.add(check);
        check();
      });
    },
    stderr: () => stderr,
    async kill9() {
      if (exitedWith === undefined) child.kill("SIGKILL");
      await exited;
    },
  };
}
