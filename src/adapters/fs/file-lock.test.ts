import { readFile, unlink, utimes, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, beforeEach, expect, it } from "vitest";
import { ExternalError } from "../../core/errors.ts";
import { tempDir } from "../../../test/support/git-fixtures.ts";
import { withFileLock } from "./file-lock.ts";

let dir: { dir: string; remove(): Promise<void> };
beforeEach(async () => {
  dir = await tempDir("cspace-lock-");
});
afterEach(async () => {
  await dir.remove();
});

it("breaks a lock left by a process that no longer exists, and removes its own lock after", async () => {
  const gone = await execa(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
  const lock = path.join(dir.dir, "x.lock");
  await writeFile(lock, JSON.stringify({ host: os.hostname(), pid: Number(gone.stdout), token: "old", at: Date.now() }));
  expect(await withFileLock(lock, () => Promise.resolve("ran"))).toBe("ran");
  await expect(readFile(lock)).rejects.toMatchObject({ code: "ENOENT" });
});

it("waits for a live holder and gives up with the holder named", async () => {
  const lock = path.join(dir.dir, "x.lock");
  await writeFile(lock, JSON.stringify({ host: os.hostname(), pid: process.pid, token: "live", at: Date.now() }));
  const waiting = withFileLock(lock, () => Promise.resolve("ran"), { timeoutMs: 100 });
  await expect(waiting).rejects.toBeInstanceOf(ExternalError);
  await expect(waiting).rejects.toThrow(`process ${String(process.pid)}`);
  expect(JSON.parse(await readFile(lock, "utf8"))).toMatchObject({ token: "live" });
});

it("says once whom it waits for, when it waits", async () => {
  const lock = path.join(dir.dir, "x.lock");
  const startedAt = new Date().toISOString();
  await writeFile(lock, JSON.stringify({ host: os.hostname(), pid: process.pid, token: "live", startedAt }));
  const said: string[] = [];
  await expect(withFileLock(lock, () => Promise.resolve("ran"), { timeoutMs: 100, onWait: (text) => said.push(text) })).rejects.toBeInstanceOf(ExternalError);
  expect(said).toEqual([`waiting for the lock ${lock}, held by process ${String(process.pid)} on ${os.hostname()}, since ${startedAt}`]);
  said.length = 0;
  await unlink(lock);
  expect(await withFileLock(lock, () => Promise.resolve("ran"), { onWait: (text) => said.push(text) })).toBe("ran");
  expect(said).toEqual([]);
});

it("runs one holder at a time", async () => {
  const lock = path.join(dir.dir, "x.lock");
  let inside = 0;
  let most = 0;
  const work = async () => {
    inside++;
    most = Math.max(most, inside);
    await new Promise<void>((resolve) => setImmediate(resolve));
    inside--;
  };
  await Promise.all(Array.from({ length: 8 }, () => withFileLock(lock, work)));
  expect(most).toBe(1);
});

/** Backdates a file past the grace an unreadable lock is given (no waiting in the test). */
async function backdate(file: string): Promise<void> {
  const past = new Date(Date.now() - 60_000);
  await utimes(file, past, past);
}

it("breaks an empty lock a crash left between creating and writing it, and says so", async () => {
  // What a cspace before this one left when killed between its O_EXCL create and its write: an empty file, long ago.
  const lock = path.join(dir.dir, "issue-1.lock");
  await writeFile(lock, "");
  await backdate(lock);
  const said: string[] = [];
  expect(await withFileLock(lock, () => Promise.resolve("ran"), { timeoutMs: 2_000, onStaleBroken: (text) => said.push(text) })).toBe("ran");
  expect(said).toEqual([expect.stringContaining(`broke a stale lock ${lock}: an empty or unreadable lock`)]);
  await expect(readFile(lock)).rejects.toMatchObject({ code: "ENOENT" });
});

it("waits on an empty lock that is still young (an older cspace writing its owner right now), naming it", async () => {
  const lock = path.join(dir.dir, "issue-1.lock");
  await writeFile(lock, "");
  const waiting = withFileLock(lock, () => Promise.resolve("ran"), { timeoutMs: 50 });
  await expect(waiting).rejects.toThrow("the file is empty");
  expect(await readFile(lock, "utf8")).toBe("");
});

it("a holder killed with SIGKILL while it holds the lock leaves a lock the next taker breaks, saying whose it was", async () => {
  const lock = path.join(dir.dir, "issue-1.lock");
  // A real process takes the lock through the same code, says so, and is killed while holding it.
  const holder = execa(process.execPath, ["-e", `
    import("${path.resolve("src/adapters/fs/file-lock.ts")}").then(({ withFileLock }) =>
      withFileLock(${JSON.stringify(lock)}, () => { process.stdout.write("held\\n"); return new Promise(() => {}); }));
  `], { reject: false });
  await new Promise<void>((resolve) => holder.stdout.on("data", (chunk: Buffer) => { if (chunk.toString().includes("held")) resolve(); }));
  const pid = holder.pid;
  holder.kill("SIGKILL");
  await holder;
  // Never seen empty: the record was whole from the start.
  expect(JSON.parse(await readFile(lock, "utf8"))).toMatchObject({ pid, host: os.hostname() });
  const said: string[] = [];
  expect(await withFileLock(lock, () => Promise.resolve("ran"), { timeoutMs: 2_000, onStaleBroken: (text) => said.push(text) })).toBe("ran");
  expect(said).toEqual([expect.stringContaining(`the lock of pid ${String(pid)} on ${os.hostname()}, which is no longer running`)]);
});

it("breaks a lock whose pid now belongs to another process (its start time differs)", async () => {
  const lock = path.join(dir.dir, "issue-1.lock");
  // Our own pid, but a start time that is not ours: the pid was reused after the holder died.
  await writeFile(lock, JSON.stringify({ pid: process.pid, host: os.hostname(), token: "old", startedAt: new Date().toISOString(), startTicks: "1" }));
  const said: string[] = [];
  expect(await withFileLock(lock, () => Promise.resolve("ran"), { timeoutMs: 2_000, onStaleBroken: (text) => said.push(text) })).toBe("ran");
  expect(said).toHaveLength(process.platform === "linux" ? 1 : 0);
});
