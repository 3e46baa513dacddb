import { randomBytes } from "node:crypto";
import { lstat, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { ExternalError } from "../core/errors.ts";

/**
 * Creates the run directory (and any missing parents) readable by its owner
 * only: the sockets in it accept commands for the agents.
 */
export async function ensureRunDir(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new ExternalError(`cannot create the run directory ${dir}: ${messageOf(error)}`, { cause: error });
  }
  const stats = await lstat(dir).catch((error: unknown) => {
    throw new ExternalError(`cannot inspect the run directory ${dir}: ${messageOf(error)}`, { cause: error });
  });
  if (!stats.isDirectory()) throw new ExternalError(`the run directory ${dir} exists and is not a directory`);
  const uid = process.getuid?.();
  // Someone else's directory in a shared /tmp could read or replace our sockets.
  if (uid !== undefined && stats.uid !== uid) {
    throw new ExternalError(`the run directory ${dir} belongs to user id ${stats.uid}, not to you (${uid})`);
  }
}

/** Proves the directory is writable by creating and removing a file in it. */
export async function probeWritable(dir: string): Promise<void> {
  const probe = path.join(dir, `.cspace-probe-${process.pid}-${randomBytes(4).toString("hex")}`);
  try {
    await writeFile(probe, "", { flag: "wx", mode: 0o600 });
  } catch (error) {
    throw new ExternalError(`cannot write in the run directory ${dir}: ${messageOf(error)}`, { cause: error });
  }
  try {
    await rm(probe);
  } catch (error) {
    throw new ExternalError(`cannot remove files in the run directory ${dir}: ${messageOf(error)}`, { cause: error });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
