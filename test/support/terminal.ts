import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach } from "vitest";

/**
 * A real pseudo-terminal for the dashboard's tests: a private tmux server
 * (its own socket, so nothing of the user's is touched) running one command
 * in a pane of a fixed size. `screen()` is what a person would see (tmux
 * interprets the escape sequences, so an in-place redraw reads as the final
 * picture, unlike a byte log), keys go in with `send-keys`, and the pane
 * stays after the command ends so its exit status can be read. Every server
 * is killed after its test.
 */

export interface Terminal {
  /** The visible screen and its scrollback, as text. */
  screen(): string;
  press(...keys: string[]): void;
  /** The command's exit status once it ended, else null. */
  exitStatus(): number | null;
  /** Resolves once `check` holds on the screen (looked at every 250 ms), or fails after `timeoutMs` with the screen. */
  waitForScreen(check: (screen: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  waitForExit(timeoutMs?: number): Promise<number>;
}

const servers: { socket: string; dir: string }[] = [];
afterEach(() => {
  for (const { socket, dir } of servers.splice(0)) {
    try {
      execFileSync("tmux", ["-L", socket, "kill-server"], { stdio: "ignore" });
    } catch {
      // Already gone with its last pane.
    }
    rmSync(dir, { recursive: true, force: true });
  }
});

const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;

export function openTerminal(command: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; columns?: number; rows?: number }): Terminal {
  const socket = `cspace-test-${randomBytes(4).toString("hex")}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), "cspace-terminal-"));
  servers.push({ socket, dir });
  // Set before the pane starts (a command that ends at once must stay readable); the status is written by the pane's shell,
  // as tmux 3.3 does not always fill #{pane_dead_status}.
  const config = path.join(dir, "tmux.conf");
  const statusFile = path.join(dir, "status");
  writeFileSync(config, "set -g remain-on-exit on\nset -g history-limit 5000\n");
  const tmux = (...args: string[]): string => execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8", env: options.env });
  // The pane's environment is set explicitly: a tmux server passes on only part of its own.
  const assignments = Object.entries(options.env).filter(([name, value]) => value !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(name)).map(([name, value]) => `${name}=${quote(value ?? "")}`);
  const shell = `cd ${quote(options.cwd)} && env -i ${assignments.join(" ")} TERM=xterm-256color ${command.map(quote).join(" ")}; echo $? > ${quote(statusFile)}`;
  tmux("-f", config, "new-session", "-d", "-s", "t", "-x", String(options.columns ?? 100), "-y", String(options.rows ?? 40), "sh", "-c", shell);
  const screen = (): string => tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "t");
  const exitStatus = (): number | null => {
    let text: string;
    try {
      text = readFileSync(statusFile, "utf8");
    } catch {
      return null;
    }
    return text.endsWith("\n") ? Number(text.trim()) : null;
  };
  const poll = async <T>(probe: () => T | null, fail: () => string, timeoutMs: number): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== null) return value;
      if (Date.now() > deadline) throw new Error(fail());
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  return {
    screen,
    exitStatus,
    press: (...keys) => {
      tmux("send-keys", "-t", "t", ...keys);
    },
    waitForScreen: (check, what, timeoutMs = 600_000) =>
      poll(
        () => {
          const text = screen();
          return check(text) ? text : null;
        },
        () => `the terminal never showed ${what}; it shows:\n${screen().split("\n").slice(-60).join("\n")}`,
        timeoutMs,
      ),
    waitForExit: (timeoutMs = 900_000) => poll(exitStatus, () => `the command did not end; the terminal shows:\n${screen().split("\n").slice(-60).join("\n")}`, timeoutMs),
  };
}
