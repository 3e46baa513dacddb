import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { CoordinatorEvent, CoordinatorEventType } from "../../src/core/coordinator/events.ts";

/**
 * Judging a coordinate run by its rule (issue 14): every commit cspace put on
 * the feature branch has a tree on which the verify commands pass. The judge
 * checks out each commit the run added, alone, and runs verify there; the
 * run's own events (NDJSON on stdout) say what was verified and what the
 * agents were told. Either forge: the judge reads a bare repository (the
 * local forge's remote, or the GitHub simulator's).
 */

const run = promisify(execFile);

/** What verify said of one commit the run added, checked out alone. */
export interface CommitVerdict {
  readonly sha: string;
  readonly subject: string;
  /** 0: verify passed. */
  readonly exitCode: number;
  /** Its stdout and stderr, for a failed expectation. */
  readonly output: string;
}

/**
 * Runs `command` (with `sh -c`) on every commit of `branch` above `from` in
 * the bare repository `gitDir`, oldest first, each commit's files written out
 * alone into a fresh directory (`git archive`: the exact tree, bytes and modes).
 */
export async function verifyEachCommit(gitDir: string, from: string, branch: string, command: string): Promise<CommitVerdict[]> {
  const git = async (...args: string[]): Promise<string> => (await run("git", ["--git-dir", gitDir, ...args], { encoding: "utf8" })).stdout.trim();
  const shas = (await git("rev-list", "--reverse", `${from}..${branch}`)).split("\n").filter((sha) => sha !== "");
  const verdicts: CommitVerdict[] = [];
  for (const sha of shas) {
    const dir = await mkdtemp(path.join(tmpdir(), "cspace-verify-commit-"));
    try {
      await run("sh", ["-c", 'git --git-dir "$1" archive "$2" | tar -x -C "$3"', "archive", gitDir, sha, dir]);
      const subject = await git("log", "-1", "--format=%s", sha);
      verdicts.push({ sha, subject, ...(await exitOf(command, dir)) });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return verdicts;
}

async function exitOf(command: string, cwd: string): Promise<{ exitCode: number; output: string }> {
  try {
    const { stdout, stderr } = await run("sh", ["-c", command], { cwd, encoding: "utf8" });
    return { exitCode: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string };
    return { exitCode: typeof failed.code === "number" ? failed.code : -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

/**
 * The verify command of the semantic-conflict scenarios: every caller names a
 * function that names.txt defines. A rename on one side and a new caller of
 * the old name on the other each pass alone and fail together, with no
 * textual conflict.
 */
export const CALLERS_CHECK = [
  "#!/bin/sh",
  "for f in callers/*.txt; do",
  '  [ -e "$f" ] || continue',
  '  name=$(cat "$f")',
  '  grep -qx "$name" names.txt || { echo "$f calls $name, which names.txt does not define"; exit 1; }',
  "done",
  "echo all callers resolve",
  "",
].join("\n");

/** The retry prompt of those scenarios: the agent brings the feature branch in and calls the name it defines now. */
export const CALL_WELCOME_RETRY = [
  "# Issue #{{issue.number}}, attempt {{attempt}} of {{maxAttempts}} ({{failure.kind}})",
  "",
  "cspace-script: rebase {{baseBranch}}",
  "cspace-script: commit callers/hello.txt welcome",
  "",
].join("\n");

/** The events of a `--json` run's stdout, in order. */
export function eventsOf(stdout: string): CoordinatorEvent[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith('{"kind":"event"'))
    .map((line) => (JSON.parse(line) as { event: CoordinatorEvent }).event);
}

/** The events among a run's parsed progress lines (test/support/coordinate-run.ts), in order. */
export function eventsIn(lines: readonly { readonly kind: string; readonly event?: unknown }[]): CoordinatorEvent[] {
  return lines.flatMap((line) => (line.kind === "event" && line.event !== undefined ? [line.event as CoordinatorEvent] : []));
}

export function ofType<T extends CoordinatorEventType>(events: readonly CoordinatorEvent[], type: T): Extract<CoordinatorEvent, { type: T }>[] {
  return events.filter((event): event is Extract<CoordinatorEvent, { type: T }> => event.type === type);
}
