import { lstat, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { ExternalError, UserError } from "../../core/errors.ts";
import type { HOST_FILES } from "../../core/messaging/layout.ts";
import type { InstancePaths } from "./instance-files.ts";

/**
 * The files the host owns, which plain fs calls may touch: the host-only
 * directory `<run dir>/_host/<instance>/` (no container mounts it) and a
 * prompt file the user named. Everything in the instance directory itself is
 * the worker's to change and goes through adapters/fs/untrusted-dir.ts; lint
 * keeps plain fs out of the rest of services/workers and coordinate/pool.
 */

type HostFile = (typeof HOST_FILES)[keyof typeof HOST_FILES];

/** Whether the instance directory exists (it lies in the run directory, which no container can write). */
export async function instanceDirExists(paths: Pick<InstancePaths, "dir">): Promise<boolean> {
  return lstat(paths.dir).then((s) => s.isDirectory(), () => false);
}

/** A file of the host-only directory; null when there is none. */
export async function readHostFile(paths: Pick<InstancePaths, "hostDir">, name: HostFile): Promise<string | null> {
  const file = path.join(paths.hostDir, name);
  return readFile(file, "utf8").catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new ExternalError(`cannot read ${file}: ${String(error)}`, { cause: error });
  });
}

export async function writeHostFile(paths: Pick<InstancePaths, "hostDir">, name: HostFile, text: string): Promise<void> {
  await mkdir(paths.hostDir, { recursive: true, mode: 0o700 });
  await writeFile(path.join(paths.hostDir, name), text, { mode: 0o600 });
}

export async function removeHostFile(paths: Pick<InstancePaths, "hostDir">, name: HostFile): Promise<void> {
  await rm(path.join(paths.hostDir, name), { force: true });
}

/** `--prompt-file`: a file of the user's. */
export async function readPromptFile(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    throw new UserError(`cannot read the prompt file ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}

/**
 * A run directory of this command's own on this machine (0700, in the
 * temporary directory), holding `<instance>/` for a copy of a remote
 * worker's files; `remove` deletes it all.
 */
export async function privateRunDir(instance: string): Promise<{ readonly runDir: string; remove(): Promise<void> }> {
  const runDir = await mkdtemp(path.join(os.tmpdir(), "cspace-copy-"));
  await mkdir(path.join(runDir, instance), { mode: 0o700 });
  return { runDir, remove: () => rm(runDir, { recursive: true, force: true }) };
}
