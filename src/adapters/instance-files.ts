import { constants } from "node:fs";
import { lstat, mkdir, open, readdir, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import { ExternalError, UserError } from "../core/errors.ts";
import { HOST_ONLY_DIR } from "../core/messaging/layout.ts";

/**
 * The instance's own directory in the run directory, `<run dir>/<instance>/`,
 * made (mode 0700) when missing: the only part of the run directory its
 * container sees (at /run/cspace). Returns its path.
 */
export async function ensureInstanceDir(runDir: string, instance: string): Promise<string> {
  const dir = path.join(runDir, instance);
  try {
    await mkdir(dir, { mode: 0o700 });
  } catch (error) {
    if (!(typeof error === "object" && error !== null && "code" in error && error.code === "EEXIST")) {
      throw new ExternalError(`cannot create the instance directory ${dir}: ${String(error)}`, { cause: error });
    }
  }
  return dir;
}

/**
 * Lets the container user (uid:gid) write in its instance directory,
 * bind-mounted at /run/cspace, without giving the directory away: it stays
 * ours (the host side listens on sockets there), its group becomes the container user's
 * and it gets mode 2770 — group-writable, and setgid so sockets the worker
 * makes stay in that group. Nobody else gains anything: the directory is not
 * world-accessible. Only a root cspace can hand a group to another uid; for
 * anyone else the uids must match (the usual uid 1000 on both sides).
 */
export async function shareInstanceDir(dir: string, uid: number, gid: number): Promise<void> {
  const self = process.getuid?.();
  if (self === undefined || uid === 0 || uid === self) return;
  if (self !== 0) {
    throw new UserError(`the container user (uid ${uid}) cannot write in its instance directory ${dir}, which belongs to you (uid ${self})`, {
      hint: 'Use a container user with your uid (set "remoteUser"/"containerUser" in devcontainer.json), or run cspace as root.',
    });
  }
  try {
    // Changed through the opened directory, never through a path that could be a link.
    const handle = await open(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
    try {
      await handle.chown(self, gid);
      await handle.chmod(0o2770);
    } finally {
      await handle.close();
    }
  } catch (error) {
    throw new ExternalError(`cannot share the instance directory ${dir} with gid ${gid}: ${String(error)}`, { cause: error });
  }
}

/** Removes `<instance>` and `<instance>.*` (its socket, logs, outbox) from the run directory; returns the names removed. */
export async function removeInstanceFiles(dir: string, instance: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => []);
  const mine = names.filter((name) => name === instance || name.startsWith(`${instance}.`));
  for (const name of mine) await rm(path.join(dir, name), { recursive: true, force: true });
  const hostOnly = path.join(dir, HOST_ONLY_DIR, instance);
  if (await lstat(hostOnly).then(() => true, () => false)) {
    await rm(hostOnly, { recursive: true, force: true });
    mine.push(path.join(HOST_ONLY_DIR, instance));
    // The last instance's going takes the host-only folder with it (it is made again with the next launch's files).
    await rmdir(path.join(dir, HOST_ONLY_DIR)).catch(() => undefined);
  }
  return mine;
}
