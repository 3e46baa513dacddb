import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runNotifyCommand } from "./run-command.ts";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "notify-command-"));
  dirs.push(dir);
  return dir;
}

const payload = { kind: "failed", issue: 12, cause: "failed:12:1", reason: "it's $(rm -rf ~) `x`", runId: "r1", at: "2026-05-01T10:00:00.000Z" };

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("notify.command", () => {
  it("a command line gets the notification as JSON on stdin, never in its arguments", async () => {
    const dir = await tempDir();
    await runNotifyCommand('cat > event.json; printf "%s" "$#" > args', payload, { timeoutMs: 10_000, cwd: dir, env: process.env });
    expect(JSON.parse(await readFile(path.join(dir, "event.json"), "utf8"))).toEqual(payload);
    expect(await readFile(path.join(dir, "args"), "utf8")).toBe("0");
  });

  it("a list is the program and its arguments, run without a shell", async () => {
    const dir = await tempDir();
    await runNotifyCommand(["/bin/sh", "-c", 'cat > "$1"', "sh", path.join(dir, "out.json")], payload, { timeoutMs: 10_000, cwd: dir, env: process.env });
    expect(JSON.parse(await readFile(path.join(dir, "out.json"), "utf8"))).toEqual(payload);
  });

  it("a failure says how it ended and the end of its stderr", async () => {
    const dir = await tempDir();
    await expect(runNotifyCommand("echo the webhook said 500 >&2; exit 3", payload, { timeoutMs: 10_000, cwd: dir, env: process.env })).rejects.toThrow("it exited 3: the webhook said 500");
    await expect(runNotifyCommand(["/no/such/notifier"], payload, { timeoutMs: 10_000, cwd: dir, env: process.env })).rejects.toThrow(/it could not be started: .*ENOENT/);
  });

  it("one that runs past its time is stopped, with what it started", async () => {
    const dir = await tempDir();
    const pidFile = path.join(dir, "sleep.pid");
    await expect(runNotifyCommand(`sleep 300 & echo $! > ${pidFile}; wait`, payload, { timeoutMs: 2_000, cwd: dir, env: process.env })).rejects.toThrow("it did not finish within 2 s and was stopped");
    // On a machine so busy that the shell had not started its sleep in 2 s, there is nothing left to look for.
    const pid = Number(await readFile(pidFile, "utf8").catch(() => "0"));
    // SIGKILL went to the whole group: the sleep is gone once the kernel has reaped it.
    if (pid > 0) await expect.poll(() => alive(pid), { timeout: 10_000 }).toBe(false);
  });
});
