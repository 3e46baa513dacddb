import { readFile, writeFile } from "node:fs/promises";
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
