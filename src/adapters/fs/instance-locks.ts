import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { InstanceLocks } from "../../core/instances/ports.ts";
import { exists } from "./exists.ts";
import { stderrNotice, withFileLock } from "./file-lock.ts";

/**
 * Instance locks as files in `<data>/<project>/locks/`: `<instance>.lock`
 * (held while a command works on the instance) and `<instance>.removing`
 * (down's request that a warm in progress stop). Both name their process, so
 * one left by a process that died is ignored rather than blocking for ever.
 * The directory is made on first use, never by commands that only read.
 */
export class FileInstanceLocks implements InstanceLocks {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async withLock<T>(instance: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    // A warm holds its instance for as long as its lifecycle commands run: wait as long, unless interrupted, saying for whom.
    return withFileLock(path.join(this.#dir, `${instance}.lock`), work, { timeoutMs: 24 * 60 * 60_000, signal, onWait: stderrNotice });
  }

  async held(instance: string): Promise<boolean> {
    return exists(path.join(this.#dir, `${instance}.lock`));
  }

  async requestRemoval(instance: string): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    await writeFile(this.#marker(instance), JSON.stringify({ host: os.hostname(), pid: process.pid }));
  }

  async removalRequested(instance: string): Promise<boolean> {
    const text = await readFile(this.#marker(instance), "utf8").catch(() => null);
    if (text === null) return false;
    try {
      const { host, pid } = JSON.parse(text) as { host?: unknown; pid?: unknown };
      if (host !== os.hostname() || typeof pid !== "number") return true;
      process.kill(pid, 0);
      return true;
    } catch (error) {
      // The down that asked is gone (ESRCH), or the marker is unreadable: it asks nothing.
      return typeof error === "object" && error !== null && "code" in error && error.code === "EPERM";
    }
  }

  async clearRemoval(instance: string): Promise<void> {
    await rm(this.#marker(instance), { force: true });
  }

  #marker(instance: string): string {
    return path.join(this.#dir, `${instance}.removing`);
  }
}
