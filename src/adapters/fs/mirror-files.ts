import { createHash } from "node:crypto";
import { checkMirrorPath, MIRROR_DIRS, type HeldFile, type MirrorChange, type MirrorLimits } from "../../core/instances/mirror-protocol.ts";
import { INSTANCE_FILES } from "../../core/messaging/layout.ts";
import {
  appendUntrustedAt,
  ensureUntrustedDir,
  listUntrusted,
  readUntrustedFile,
  removeUntrusted,
  renameUntrusted,
  UNTRUSTED_LIMITS,
  UntrustedFileError,
  writeUntrustedFile,
} from "./untrusted-dir.ts";

/**
 * The host's side of the instance-directory mirror on disk: what it holds of
 * the mirrored files, and each checked change applied to its copy of the
 * instance directory with untrusted-dir's care (no link followed, a file
 * replaced by renaming a fresh one over it, an append only where the copy
 * ends). Only names core/instances/mirror-protocol.ts allows reach here;
 * the sockets helper C relays into the same directory are never touched.
 */

/** The host's limits per kind of mirrored file: its readers' own (UNTRUSTED_LIMITS); a log is held like events. */
export const MIRROR_LIMITS: MirrorLimits = {
  events: UNTRUSTED_LIMITS.events,
  log: UNTRUSTED_LIMITS.events,
  record: UNTRUSTED_LIMITS.record,
};

/** The mirrored files in `dir` now, with their sizes and hashes: what the container's mirror need not send again. */
export async function heldFiles(dir: string, limits: MirrorLimits = MIRROR_LIMITS): Promise<Record<string, HeldFile>> {
  const held: Record<string, HeldFile> = {};
  for (const folder of [[], ...MIRROR_DIRS.map((name) => name.split("/"))]) {
    for (const entry of await listUntrusted(dir, folder).catch(() => [])) {
      if (!entry.isFile()) continue;
      const file = [...folder, entry.name].join("/");
      const check = checkMirrorPath(file);
      if (!check.ok) continue;
      let content: Buffer | null;
      try {
        content = await readUntrustedFile(dir, file, limits[check.kind]);
      } catch (error) {
        // Not a file the host can hold (too large): left out, so the worker sends it again (a put replaces it).
        if (error instanceof UntrustedFileError) continue;
        throw error;
      }
      if (content !== null) held[file] = { size: content.length, sha256: createHash("sha256").update(content).digest("hex") };
    }
  }
  return held;
}

/** Applies one checked change; `data` is the decoded bytes of an append or put. */
export async function applyMirrorChange(dir: string, change: MirrorChange, data: Buffer): Promise<void> {
  switch (change.op) {
    case "append":
      await appendUntrustedAt(dir, change.path, change.offset, data);
      return;
    case "put":
      await ensureFolders(dir, change.path);
      await writeUntrustedFile(dir, change.path, data, 0o600);
      return;
    case "remove":
      await removeUntrusted(dir, change.path);
      return;
    case "move":
      await ensureFolders(dir, change.to);
      if (!(await renameUntrusted(dir, change.from, change.to))) throw new UntrustedFileError(`${dir}/${change.from}`, "it is gone from the host's copy, so it cannot be moved");
      return;
  }
}

/** outbox/ and outbox/delivered/, made (0700) before a report is written there. */
async function ensureFolders(dir: string, file: string): Promise<void> {
  if (!file.startsWith(`${INSTANCE_FILES.outbox}/`)) return;
  await ensureUntrustedDir(dir, [], INSTANCE_FILES.outbox, 0o700);
  if (file.startsWith(`${INSTANCE_FILES.delivered}/`)) await ensureUntrustedDir(dir, [INSTANCE_FILES.outbox], "delivered", 0o700);
}
