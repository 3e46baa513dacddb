import { createHash } from "node:crypto";
import path from "node:path";
import { UserError } from "./errors.ts";

/**
 * The run directory holds a project's Unix sockets (one per worker and
 * `_coordinator.sock`), so it is per project and its path must stay short:
 * a socket path longer than the platform's `sun_path` cannot be bound.
 */

/** The running coordinator's own socket in the run directory, for `cspace send _coordinator` on the host. */
export const OPERATOR_SOCKET = "_coordinator.sock";

export function operatorSocketPath(runDir: string): string {
  return path.join(runDir, OPERATOR_SOCKET);
}

/** The longest instance name cspace makes (a DNS label, like a container's hostname). */
export const INSTANCE_NAME_MAX = 63;

export type RunDirSource = "CSPACE_RUN_DIR" | "XDG_RUNTIME_DIR" | "tmpdir";

export interface RunDirInput {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly projectName: string;
  /** Absolute path of the project directory; it makes the id unique per checkout. */
  readonly projectDir: string;
  /** The user's id, or undefined where the platform has none (Windows). */
  readonly uid: number | undefined;
  /** `os.tmpdir()`. */
  readonly tmpdir: string;
}

export interface RunDir {
  readonly path: string;
  readonly source: RunDirSource;
  /**
   * The folders cspace makes for it, outermost first, ending with `path`
   * (`<tmp>/cspace-<uid>` and `<tmp>/cspace-<uid>/<id>`, say). They must be
   * the user's own and private; the folders above them only safe.
   */
  readonly made: readonly string[];
}

/** `<name truncated to 20>-<first 8 hex of sha256(projectDir)>`: readable, and unique per checkout. */
export function projectId(projectName: string, projectDir: string): string {
  const digest = createHash("sha256").update(projectDir).digest("hex").slice(0, 8);
  return `${projectName.slice(0, 20)}-${digest}`;
}

/**
 * CSPACE_RUN_DIR as given (absolute only), else
 * `$XDG_RUNTIME_DIR/cspace/<project-id>`, else `<tmpdir>/cspace-<uid>/<project-id>`.
 */
export function runDirFor(input: RunDirInput): RunDir {
  const explicit = nonEmpty(input.env.CSPACE_RUN_DIR);
  if (explicit !== undefined) {
    // Resolved, it would be a different folder from each directory a command runs in, and one a user did not mean to create.
    if (!path.isAbsolute(explicit)) {
      throw new UserError(`CSPACE_RUN_DIR is a relative path (${JSON.stringify(explicit)}); cspace needs an absolute one`, {
        hint: 'set it to an absolute path, like CSPACE_RUN_DIR="$HOME/.cspace-run", or unset it to use the default',
      });
    }
    const dir = path.resolve(explicit);
    return { path: dir, source: "CSPACE_RUN_DIR", made: [dir] };
  }
  const id = projectId(input.projectName, input.projectDir);
  const runtime = nonEmpty(input.env.XDG_RUNTIME_DIR);
  // The XDG spec says a relative XDG_RUNTIME_DIR is invalid and must be ignored.
  if (runtime !== undefined && path.isAbsolute(runtime)) {
    const top = path.join(runtime, "cspace");
    return { path: path.join(top, id), source: "XDG_RUNTIME_DIR", made: [top, path.join(top, id)] };
  }
  const top = path.join(input.tmpdir, input.uid === undefined ? "cspace" : `cspace-${input.uid}`);
  return { path: path.join(top, id), source: "tmpdir", made: [top, path.join(top, id)] };
}

/** What lstat says about one existing folder on the way to the run directory. */
export interface PathEntry {
  readonly path: string;
  readonly kind: "directory" | "symlink" | "other";
  readonly uid: number;
  /** Permission bits, with the sticky bit (0o1000). */
  readonly mode: number;
}

export interface RunDirProblem {
  readonly path: string;
  readonly message: string;
  readonly hint: string;
}

const OTHERS_MAY_WRITE = 0o022;
const WORLD_MAY_WRITE = 0o002;
const STICKY = 0o1000;

/**
 * Whether the existing folders from `/` down to the run directory can be
 * trusted. Anyone who can rename an entry of a folder can swap cspace's
 * sockets for their own, so the folders cspace makes must be the user's and
 * writable by the user alone; a folder above them must belong to the user or
 * root, and may be writable by everyone only when sticky (like /tmp).
 * `uid` undefined (Windows): nothing to compare.
 */
export function runDirProblems(entries: readonly PathEntry[], made: readonly string[], uid: number | undefined): RunDirProblem[] {
  const runDir = made[made.length - 1];
  const problems: RunDirProblem[] = [];
  for (const entry of entries) {
    const own = made.includes(entry.path);
    const role = entry.path === runDir ? "the run directory" : own ? "the run directory's parent" : "the folder above the run directory";
    const owner = `owner user id ${entry.uid}, mode ${octal(entry.mode)}`;
    const elsewhere = 'set CSPACE_RUN_DIR to a folder of your own, like "$HOME/.cspace-run"';
    if (own && entry.kind !== "directory") {
      problems.push({ path: entry.path, message: `${role} ${entry.path} exists and is not a directory${entry.kind === "symlink" ? " (a symbolic link)" : ""}`, hint: `remove it if you did not make it, or ${elsewhere}` });
      continue;
    }
    if (uid === undefined) continue;
    if (own && entry.uid !== uid) {
      problems.push({
        path: entry.path,
        message: `${role} ${entry.path} belongs to someone else (${owner}; you are user id ${uid}): they could replace cspace's sockets in it`,
        hint: `if you did not make it, have it removed (as root: rm -r ${entry.path}), or ${elsewhere}`,
      });
    } else if (own && (entry.mode & OTHERS_MAY_WRITE) !== 0) {
      problems.push({
        path: entry.path,
        message: `${role} ${entry.path} can be written by other users (${owner}): they could replace cspace's sockets in it`,
        hint: `make it yours alone with chmod 700 ${entry.path}, or ${elsewhere}`,
      });
    } else if (!own && entry.uid !== uid && entry.uid !== 0) {
      problems.push({ path: entry.path, message: `${role} ${entry.path} belongs to another user (${owner}; you are user id ${uid}): they could replace the run directory`, hint: elsewhere });
    } else if (!own && entry.kind === "directory" && (entry.mode & WORLD_MAY_WRITE) !== 0 && (entry.mode & STICKY) === 0) {
      problems.push({ path: entry.path, message: `${role} ${entry.path} can be written by every user and is not sticky (${owner}): anyone could replace the run directory`, hint: `chmod +t ${entry.path} (as its owner), or ${elsewhere}` });
    }
  }
  return problems;
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

/** Bytes a socket path may have: `sun_path` less its terminating NUL (108 on Linux, 104 on the BSDs and macOS). */
export function maxSocketPathBytes(platform: string): number {
  return platform === "darwin" || platform.endsWith("bsd") ? 103 : 107;
}

export interface SocketRoom {
  /** Length in bytes of the longest socket path cspace would make in the directory. */
  readonly longest: number;
  readonly max: number;
  readonly fits: boolean;
}

/** Whether `<runDir>/<63-character instance name>.sock` can be bound. */
export function socketRoom(runDir: string, platform: string): SocketRoom {
  const longest = new TextEncoder().encode(path.join(runDir, `${"x".repeat(INSTANCE_NAME_MAX)}.sock`)).length;
  const max = maxSocketPathBytes(platform);
  return { longest, max, fits: longest <= max };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === "" ? undefined : value;
}
