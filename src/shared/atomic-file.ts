import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, renameSync, statSync, unlinkSync, writeSync } from "node:fs";
import path from "node:path";

/**
 * Replaces `file` with `content` so a reader sees the old content or the
 * new, never a torn one: written to a fresh hidden file in the same folder
 * (O_EXCL, a random name: two writers never share it) and renamed over.
 * Synchronous: the files are small, and the worker bundle's callers are.
 * Node's built-ins only (src/shared is bundled for the worker's Node 18).
 */
export interface AtomicWriteOptions {
  /** Also sync to disk before the rename (a report must survive a crash of the machine; a state file rewritten often need not). */
  readonly durable?: boolean;
  /** The new file's permission bits; default: the replaced file's, else 0o644. */
  readonly mode?: number;
}

export function writeFileAtomic(file: string, content: string | Uint8Array, options: AtomicWriteOptions = {}): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${String(process.pid)}.${randomBytes(4).toString("hex")}.tmp`);
  const mode = options.mode ?? modeOf(file) ?? 0o644;
  const fd = openSync(temporary, "wx", mode);
  try {
    try {
      const bytes = typeof content === "string" ? Buffer.from(content) : content;
      for (let written = 0; written < bytes.length; ) written += writeSync(fd, bytes, written, bytes.length - written);
      if (options.durable === true) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // Renamed already, or never made.
    }
    throw error;
  }
}

function modeOf(file: string): number | undefined {
  try {
    return statSync(file).mode & 0o777;
  } catch {
    return undefined;
  }
}
