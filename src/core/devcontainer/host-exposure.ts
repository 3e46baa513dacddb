import path from "node:path";
import { UserError } from "../errors.ts";

/**
 * Host paths a bind mount must never hand a worker: whoever reaches the
 * container engine's socket is root on the host; the host's root and the
 * user's home hold everything else (keys, tokens, other projects); cspace's
 * data directory holds every instance's checkout and the object store, and
 * its run directory every worker's socket and the coordinator's. These rules
 * are pure: the adapter resolves each path on the host first (symlinks,
 * `..`), and gives every form it found, since a link can make two spellings
 * one file (on Debian /var/run is a link to /run).
 */

/** One host path, as written and as the host resolves it. */
export interface HostPath {
  /** Absolute forms, normalised; the first is the one shown. */
  readonly forms: readonly string[];
  /** `<dev>:<ino>` of what the path names when it exists, so a hard link to a socket is the socket. */
  readonly identity: string | null;
}

/** How much of the filesystem around a guarded path is refused. */
export type Reach =
  /** The path itself, and any folder above it (which contains it). */
  | "it-and-above"
  /** Also anything inside it. */
  | "anywhere-near";

export interface GuardedPath extends HostPath {
  /** What it is, for the message: "the Docker engine's socket", "the host's root". */
  readonly what: string;
  readonly reach: Reach;
}

export interface BindSource extends HostPath {
  /** The key it came from, as a user finds it in the file: `mounts[2]`. */
  readonly key: string;
}

export interface HostExposure {
  /** The file the key is in. */
  readonly where: string;
  readonly key: string;
  readonly reason: string;
}

/**
 * Every bind source that would expose a guarded path, at most one reason per
 * key. `allowedInside` are folders a mount may come from even though they lie
 * inside a guarded one: the instance's own checkout, which is mounted anyway.
 */
export function hostExposures(where: string, sources: readonly BindSource[], guarded: readonly GuardedPath[], allowedInside: readonly HostPath[] = []): HostExposure[] {
  const exposures: HostExposure[] = [];
  for (const source of sources) {
    // Named as what it is before what it contains: a home is a home, though a socket may be in it.
    const hit = guarded.find((guard) => sameFile(source, guard)) ?? guarded.find((guard) => exposes(source, guard, allowedInside));
    if (hit === undefined) continue;
    const shown = source.forms[0] ?? "";
    const resolved = source.forms.find((form) => form !== shown);
    const guardShown = hit.forms[0] ?? "";
    const relation = sameFile(source, hit) ? "" : isInside(source, hit) ? `, inside ${guardShown}` : `, which contains ${guardShown}`;
    const link = resolved === undefined ? "" : ` (${resolved} on the host)`;
    exposures.push({ where, key: source.key, reason: `binds ${shown}${link}${relation}: ${hit.what}` });
  }
  return exposures;
}

function exposes(source: BindSource, guard: GuardedPath, allowedInside: readonly HostPath[]): boolean {
  if (sameFile(source, guard) || contains(source, guard)) return true;
  if (guard.reach !== "anywhere-near" || !isInside(source, guard)) return false;
  return !allowedInside.some((allowed) => sameFile(source, allowed) || isInside(source, allowed));
}

function sameFile(a: HostPath, b: HostPath): boolean {
  if (a.identity !== null && a.identity === b.identity) return true;
  return a.forms.some((form) => b.forms.includes(form));
}

/** Whether `outer` is a folder above `inner` (strictly). */
function contains(outer: HostPath, inner: HostPath): boolean {
  return outer.forms.some((o) => inner.forms.some((i) => below(i, o)));
}

function isInside(inner: HostPath, outer: HostPath): boolean {
  return contains(outer, inner);
}

function below(child: string, parent: string): boolean {
  if (child === parent) return false;
  const prefix = parent.endsWith(path.sep) ? parent : `${parent}${path.sep}`;
  return child.startsWith(prefix);
}

/** Every exposure at once, as one UserError naming each file and key, so a user fixes them in one pass; nothing when there is none. */
export function refuseExposures(exposures: readonly HostExposure[]): void {
  if (exposures.length === 0) return;
  const lines = exposures.map((exposure) => `${exposure.where}: ${exposure.key}: ${exposure.reason}`);
  const message =
    lines.length === 1
      ? `a mount would hand the worker the host: ${lines[0] ?? ""}`
      : `mounts would hand the worker the host (${lines.length} problems):\n${lines.map((line) => `  ${line}`).join("\n")}`;
  throw new UserError(message, {
    hint:
      "remove the mount: a worker's agent is untrusted, so cspace never mounts the container engine's socket, " +
      "the host's root or home (or a folder above them), or cspace's own data and run directories into one; " +
      "mount the one folder the worker needs instead",
  });
}
