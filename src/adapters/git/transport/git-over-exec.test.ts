import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { ExecStream } from "../../../core/instances/ports.ts";
import { runGit } from "../run-git.ts";
import { REMOTE_URL, TransferStopped, gitOverExec } from "./git-over-exec.ts";

/**
 * The bridge between git on this machine and a git program at the other end
 * of an exec stream, with the other end a local process standing in for the
 * container (the docker lane runs the real thing).
 */

const made: string[] = [];
afterEach(async () => {
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

const ENV = { GIT_AUTHOR_NAME: "a", GIT_AUTHOR_EMAIL: "a@x", GIT_COMMITTER_NAME: "a", GIT_COMMITTER_EMAIL: "a@x", GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" };
const LIMITS = { maxBytes: 10 * 1024 * 1024, stallMs: 30_000, totalMs: 60_000 };

async function repos(): Promise<{ worker: string; quarantine: string; head: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "cspace-bridge-"));
  made.push(dir);
  const worker = path.join(dir, "worker");
  const quarantine = path.join(dir, "quarantine.git");
  await runGit(["init", "--quiet", "--initial-branch=issue-1", worker], { cwd: dir });
  await writeFile(path.join(worker, "f.txt"), "work\n");
  await runGit(["add", "f.txt"], { cwd: worker });
  await runGit(["commit", "--quiet", "-m", "work"], { cwd: worker, env: ENV });
  await runGit(["init", "--quiet", "--bare", quarantine], { cwd: dir });
  const head = (await runGit(["rev-parse", "HEAD"], { cwd: worker })).stdout.trim();
  return { worker, quarantine, head };
}

/** A local process behind the ExecStream shape. */
function localRemote(command: string, args: readonly string[]): ExecStream {
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, ...ENV } });
  return {
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    exit: new Promise((resolve) => {
      child.on("close", (code) => {
        resolve(code ?? -1);
      });
    }),
    close: () => {
      child.kill("SIGKILL");
    },
  };
}

const fetchArgs = (quarantine: string, branch: string): string[] => ["--git-dir", quarantine, "fetch", "--quiet", "--no-tags", "--no-write-fetch-head", "--", REMOTE_URL, `+refs/heads/${branch}:refs/cspace/collected/${branch}`];

describe("gitOverExec", () => {
  it("fetches through the remote's stdio and counts what it sent", async () => {
    const { worker, quarantine, head } = await repos();
    const result = await gitOverExec({ args: fetchArgs(quarantine, "issue-1"), cwd: quarantine, env: ENV, remote: localRemote("git", ["upload-pack", worker]), limits: LIMITS });
    expect(result.exitCode).toBe(0);
    expect(result.bytes).toBeGreaterThan(100);
    expect((await runGit(["--git-dir", quarantine, "rev-parse", "refs/cspace/collected/issue-1"], { cwd: quarantine })).stdout.trim()).toBe(head);
  });

  it("ends when git gives up on its own (no such branch): the remote hears git's end of input", async () => {
    const { worker, quarantine } = await repos();
    const result = await gitOverExec({ args: fetchArgs(quarantine, "nope"), cwd: quarantine, env: ENV, remote: localRemote("git", ["upload-pack", worker]), limits: LIMITS });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toMatch(/couldn't find remote ref refs\/heads\/nope/);
  });

  it("stops a remote that sends more than the cap, or nothing at all", async () => {
    const { quarantine } = await repos();
    const flood = gitOverExec({ args: fetchArgs(quarantine, "issue-1"), cwd: quarantine, env: ENV, remote: localRemote("sh", ["-c", "printf fff0; head -c 200000 /dev/zero; sleep 60"]), limits: { ...LIMITS, maxBytes: 65_536 } });
    await expect(flood).rejects.toThrow(TransferStopped);
    await expect(flood).rejects.toMatchObject({ reason: "too-large" });
    const silent = gitOverExec({ args: fetchArgs(quarantine, "issue-1"), cwd: quarantine, env: ENV, remote: localRemote("sleep", ["60"]), limits: { ...LIMITS, stallMs: 200 } });
    await expect(silent).rejects.toMatchObject({ reason: "stalled", bytes: 0 });
  });
});
