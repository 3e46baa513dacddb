import { createHash } from "node:crypto";
import path from "node:path";

/**
 * The run directory holds a project's Unix sockets (one per worker and
 * `_coordinator.sock`), so it is per project and its path must stay short:
 * a socket path longer than the platform's `sun_path` cannot be bound.
 */

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
}

/** `<name truncated to 20>-<first 8 hex of sha256(projectDir)>`: readable, and unique per checkout. */
export function projectId(projectName: string, projectDir: string): string {
  const digest = createHash("sha256").update(projectDir).digest("hex").slice(0, 8);
  return `${projectName.slice(0, 20)}-${digest}`;
}

/**
 * CSPACE_RUN_DIR as given (relative to the project directory when relative),
 * else `$XDG_RUNTIME_DIR/cspace/<project-id>`, else `<tmpdir>/cspace-<uid>/<project-id>`.
 */
export function runDirFor(input: RunDirInput): RunDir {
  const explicit = nonEmpty(input.env.CSPACE_RUN_DIR);
  if (explicit !== undefined) return { path: path.resolve(input.projectDir, explicit), source: "CSPACE_RUN_DIR" };
  const id = projectId(input.projectName, input.projectDir);
  const runtime = nonEmpty(input.env.XDG_RUNTIME_DIR);
  // The XDG spec says a relative XDG_RUNTIME_DIR is invalid and must be ignored.
  if (runtime !== undefined && path.isAbsolute(runtime)) {
    return { path: path.join(runtime, "cspace", id), source: "XDG_RUNTIME_DIR" };
  }
  const owner = input.uid === undefined ? "cspace" : `cspace-${input.uid}`;
  return { path: path.join(input.tmpdir, owner, id), source: "tmpdir" };
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
