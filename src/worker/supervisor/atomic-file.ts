import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import path from "node:path";

/**
 * Replaces `file` with `text` so a reader sees the old content or the new,
 * never a torn one: written to a hidden temporary file in the same folder,
 * then renamed over. `durable` also syncs it to disk first (reports must
 * survive a crash of the machine; the state file is rewritten often and need not).
 */
export function writeFileAtomic(file: string, text: string, durable: boolean): void {
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${String(process.pid)}.tmp`);
  const fd = openSync(temporary, "w", 0o600);
  try {
    writeSync(fd, text);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}
