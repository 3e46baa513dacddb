import { randomBytes } from "node:crypto";
import { constants } from "node:fs";
import { access, lstat, mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { ExternalError } from "../core/errors.ts";
import { runDirProblems, type PathEntry, type RunDir, type RunDirProblem } from "../core/run-dir.ts";

/**
 * - ready: it exists, is safe (see runDirProblems) and writable;
 * - missing: it does not exist yet, and nothing on the way to it is unsafe, so ensureRunDir can make it;
 * - refused: problems say why, each with what to do.
 */
export type RunDirState = "ready" | "missing" | "refused";

export interface RunDirInspection {
  readonly path: string;
  readonly state: RunDirState;
  readonly problems: readonly RunDirProblem[];
}

/** A bare path counts as one folder cspace makes, with nothing of its own above it. */
function layout(target: RunDir | string): { path: string; made: readonly string[] } {
  if (typeof target !== "string") return target;
  const dir = path.resolve(target);
  return { path: dir, made: [dir] };
}

/** Looks at the run directory and every folder above it without creating or changing anything. */
export async function inspectRunDir(target: RunDir | string, uid: number | undefined = process.getuid?.()): Promise<RunDirInspection> {
  const { path: dir, made } = layout(target);
  const entries: PathEntry[] = [];
  const problems: RunDirProblem[] = [];
  let missing = false;
  for (const current of chain(dir)) {
    try {
      const stats = await lstat(current);
      entries.push({ path: current, kind: stats.isDirectory() ? "directory" : stats.isSymbolicLink() ? "symlink" : "other", uid: stats.uid, mode: stats.mode });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") {
        missing = true;
        break;
      }
      problems.push({ path: current, message: `cannot inspect ${current}, on the way to the run directory ${dir}: ${messageOf(error)}`, hint: 'set CSPACE_RUN_DIR to a folder of your own, like "$HOME/.cspace-run"' });
      break;
    }
  }
  problems.push(...runDirProblems(entries, made, uid));
  if (problems.length === 0 && !missing) {
    await access(dir, constants.W_OK | constants.X_OK).catch((error: unknown) => {
      problems.push({ path: dir, message: `cannot write in the run directory ${dir}: ${messageOf(error)}`, hint: 'set CSPACE_RUN_DIR to a folder you can write, like "$HOME/.cspace-run"' });
    });
  }
  return { path: dir, state: problems.length > 0 ? "refused" : missing ? "missing" : "ready", problems };
}

/**
 * Creates the run directory (and the folders cspace makes above it) readable
 * by its owner only, after making sure nobody else prepared or can replace
 * them: the sockets in it accept commands for the agents.
 */
export async function ensureRunDir(target: RunDir | string): Promise<void> {
  const before = await inspectRunDir(target);
  if (before.state === "refused") throw refusal(before);
  if (before.state === "missing") {
    try {
      await mkdir(before.path, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new ExternalError(`cannot create the run directory ${before.path}: ${messageOf(error)}`, { cause: error });
    }
  }
  // Judged again once made: someone may have made a folder of the chain between the two looks.
  const after = await inspectRunDir(target);
  if (after.state !== "ready") throw refusal(after);
}

function refusal(inspection: RunDirInspection): ExternalError {
  const [first] = inspection.problems;
  if (first === undefined) return new ExternalError(`the run directory ${inspection.path} vanished while cspace was making it`);
  const message = inspection.problems.map((problem) => problem.message).join("; ");
  return new ExternalError(message, { hint: first.hint });
}

/** `/`, `/a`, `/a/b`, … down to the directory itself. */
function chain(dir: string): string[] {
  const parts: string[] = [];
  for (let current = dir; ; current = path.dirname(current)) {
    parts.unshift(current);
    if (path.dirname(current) === current) return parts;
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
