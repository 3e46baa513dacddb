import { spawn } from "node:child_process";

/**
 * Runs the user's `notify.command` on the host with one notification as JSON
 * on its stdin, and resolves when it exits 0. A string is a command line for
 * `/bin/sh -c`; a list is the program and its arguments, run without a
 * shell. The notification's text never reaches its arguments or environment:
 * only stdin. It runs in its own process group, so a timeout ends it and
 * everything it started. Rejects (never throws synchronously) with what went
 * wrong: it could not start, it exited non-zero (with the end of its stderr),
 * or it did not finish within `timeoutMs`.
 */
export function runNotifyCommand(command: string | readonly string[], payload: unknown, options: { readonly timeoutMs: number; readonly cwd: string; readonly env: NodeJS.ProcessEnv }): Promise<void> {
  const [file, ...args] = typeof command === "string" ? ["/bin/sh", "-c", command] : command;
  if (file === undefined) return Promise.reject(new Error("notify.command is empty"));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: options.cwd, env: options.env, stdio: ["pipe", "ignore", "pipe"], detached: true });
    let stderr = "";
    let settled = false;
    const finish = (error: Error | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (error === null) resolve();
      else reject(error);
    };
    const timer = setTimeout(() => {
      killGroup(child.pid);
      finish(new Error(`it did not finish within ${String(options.timeoutMs / 1000)} s and was stopped`));
    }, options.timeoutMs);
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr = (stderr + chunk).slice(-500);
    });
    child.on("error", (error) => { finish(new Error(`it could not be started: ${error.message}`)); });
    child.on("close", (code, signal) => {
      if (code === 0) finish(null);
      else finish(new Error(`it ${code === null ? `was killed by ${String(signal)}` : `exited ${String(code)}`}${stderr.trim() === "" ? "" : `: ${stderr.trim().split("\n").slice(-3).join(" / ")}`}`));
    });
    // A command that does not read its stdin closes the pipe: that is not its failure.
    child.stdin.on("error", () => undefined);
    child.stdin.end(`${JSON.stringify(payload)}\n`);
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // Gone already.
  }
}
