import { lstat, stat, unlink } from "node:fs/promises";
import { createConnection } from "node:net";
import path from "node:path";
import { ListenError } from "./errors.ts";

/** Permission bits that let users outside the owner and group in. */
const OTHERS = 0o007;

/**
 * A socket accepts commands, so the folder holding it must keep other users
 * out: they could otherwise connect, or replace the socket with their own.
 * The group may be let in (the run directory is shared with the container
 * user's group when cspace runs as root).
 */
export async function assertPrivateFolder(socketPath: string): Promise<void> {
  const folder = path.dirname(socketPath);
  const stats = await stat(folder).catch((error: unknown) => {
    throw new ListenError(socketPath, `cannot use the folder ${folder} for a socket: ${messageOf(error)}`, { cause: error });
  });
  if ((stats.mode & OTHERS) !== 0) {
    throw new ListenError(socketPath, `the folder ${folder} is open to other users (mode ${(stats.mode & 0o7777).toString(8)}); a socket there would accept their commands`, {
      hint: `chmod o-rwx ${folder}`,
    });
  }
}

/**
 * Removes a socket file left by a process that is gone, after proving that
 * nobody answers on it; refuses when someone does, or when the path is not a
 * socket (never deletes a file it did not make).
 */
export async function removeStaleSocket(socketPath: string, probeTimeoutMs = 1000): Promise<void> {
  const stats = await lstat(socketPath).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  });
  if (stats === null) return;
  if (!stats.isSocket()) {
    throw new ListenError(socketPath, `${socketPath} exists and is not a socket; cspace will not remove it`, { hint: "remove it if you know what it is" });
  }
  const answer = await probe(socketPath, probeTimeoutMs);
  if (answer === "alive") {
    throw new ListenError(socketPath, `another process is already listening on ${socketPath}`, { hint: "stop it first; only one server may own a socket" });
  }
  if (answer === "stale") {
    await unlink(socketPath).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    });
  }
}

/** `alive`: a connection was accepted (or the attempt hung: someone holds it). `stale`: refused. `gone`: no file anymore. */
function probe(socketPath: string, timeoutMs: number): Promise<"alive" | "stale" | "gone"> {
  return new Promise((resolve) => {
    const socket = createConnection(socketPath);
    const timer = setTimeout(() => {
      settle("alive");
    }, timeoutMs);
    function settle(answer: "alive" | "stale" | "gone"): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    }
    socket.once("connect", () => {
      settle("alive");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => {
      settle(error.code === "ENOENT" ? "gone" : error.code === "ECONNREFUSED" ? "stale" : "alive");
    });
  });
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
