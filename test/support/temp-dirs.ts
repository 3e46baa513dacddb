import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach } from "vitest";

/**
 * Temporary directories removed after each test of the calling file.
 * realpath: macOS and some CI machines reach the temp directory through a
 * symlink, and paths cspace prints are compared with these.
 */
export function useTempDirs(prefix: string): () => Promise<string> {
  const made: string[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), `cspace-${prefix}-`)));
    made.push(dir);
    return dir;
  };
}
