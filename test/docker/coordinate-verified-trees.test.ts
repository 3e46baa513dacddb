import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { CoordinatorEvent, CoordinatorEventType } from "../../src/core/coordinator/events.ts";
import { explain, issueFile, rowOf, useCoordinateProjects, type CoordinateProject } from "../support/coordinate-project.ts";

/**
 * Only verified trees land (issue 14, "The rule"), on the local forge with
 * scripted agents in real containers. Each run is judged by checking out
 * every commit it added to the feature branch and running verify on it, and
 * by the run's own events (NDJSON on stdout) for what the agents were told.
 */

const project = useCoordinateProjects();

/**
 * The verify command: every caller names a function that names.txt defines.
 * A rename on one side and a new caller of the old name on the other each
 * pass alone and fail together, with no textual conflict.
 */
const CHECK = [
  "#!/bin/sh",
  "for f in callers/*.txt; do",
  '  [ -e "$f" ] || continue',
  '  name=$(cat "$f")',
  '  grep -qx "$name" names.txt || { echo "$f calls $name, which names.txt does not define"; exit 1; }',
  "done",
  "echo all callers resolve",
  "",
].join("\n");

/** On a retry, the agent brings the feature branch in and calls the name it defines now. */
const RETRY = [
  "# Issue #{{issue.number}}, attempt {{attempt}} of {{maxAttempts}} ({{failure.kind}})",
  "",
  "cspace-script: rebase {{baseBranch}}",
  "cspace-script: commit callers/hello.txt welcome",
  "",
].join("\n");

function ofType<T extends CoordinatorEventType>(events: readonly CoordinatorEvent[], type: T): Extract<CoordinatorEvent, { type: T }>[] {
  return events.filter((event): event is Extract<CoordinatorEvent, { type: T }> => event.type === type);
}

function eventsOf(stdout: string): CoordinatorEvent[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith('{"kind":"event"'))
    .map((line) => (JSON.parse(line) as { event: CoordinatorEvent }).event);
}

/** Runs `command` on every commit between the fixture's head and main, each checked out alone: the exit code of each. */
async function verifyEachCommit(p: CoordinateProject, command: string): Promise<Record<string, number>> {
  const shas = p.git("rev-list", "--reverse", `${p.repo.head}..main`).split("\n").filter((sha) => sha !== "");
  const results: Record<string, number> = {};
  for (const sha of shas) {
    const dir = await mkdtemp(path.join(tmpdir(), "cspace-verify-commit-"));
    try {
      execFileSync("sh", ["-c", `git --git-dir "$1" archive "$2" | tar -x -C "$3"`, "archive", p.remote, sha, dir]);
      try {
        execFileSync("sh", ["-c", command], { cwd: dir, stdio: "pipe" });
        results[sha] = 0;
      } catch (error) {
        results[sha] = (error as { status?: number }).status ?? -1;
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return results;
}

describe("only verified trees land, on the local forge", () => {
  it("a semantic conflict between two independent issues: the second is sent back with what changed underneath, and merges on its next attempt", async () => {
    const p = await project({
      name: "vt-semantic",
      coordinator: { maxAttempts: 2 },
      verify: { all: "sh check.sh" },
      files: { "check.sh": CHECK, "names.txt": "greet\n", ".cspace/templates/retry.md.hbs": RETRY },
      issues: {
        60: issueFile("Rename greet to welcome", "cspace-script: commit names.txt welcome"),
        61: issueFile("Add a caller of greet", "cspace-script: commit callers/hello.txt greet"),
      },
    });
    const run = await p.coordinate([60, 61], 240_000);
    expect(run.status, explain(run)).toBe(0);

    // Every commit the run put on main passes verify, checked out alone.
    const verdicts = await verifyEachCommit(p, "sh check.sh");
    expect(Object.keys(verdicts)).toHaveLength(2);
    expect(Object.values(verdicts)).toEqual([0, 0]);
    expect(p.git("show", "main:names.txt")).toBe("welcome");
    expect(p.git("show", "main:callers/hello.txt")).toBe("welcome");

    // The second to land failed once on the combined tree and was told what changed underneath.
    const events = eventsOf(run.stdout);
    const failed = ofType(events, "LandingFailed");
    expect(failed).toHaveLength(1);
    const second = failed[0]?.issue ?? 0;
    const first = second === 60 ? 61 : 60;
    const retried = ofType(events, "Retried").find((event) => event.issue === second);
    if (retried === undefined) throw new Error(`#${String(second)} was not retried\n${explain(run)}`);
    expect(retried.failure.summary).toContain(`though issue-${String(second)} alone passed`);
    expect(retried.failure.output).toContain("What changed underneath");
    expect(retried.failure.output).toContain(first === 60 ? "Rename greet to welcome" : "Add a caller of greet");
    expect(retried.failure.output).toMatch(/\d+ files? changed/);
    expect(retried.failure.output).toContain("which names.txt does not define");
    expect([rowOf(run.report, first).attempts, rowOf(run.report, second).attempts]).toEqual([1, 2]);
    // The feature branch alone was verified once at the start; after that each tip is a verified tree, known to pass
    // without verifying it alone again (the combined failure is judged on it at once).
    expect(ofType(events, "BaseVerified").map((event) => event.epoch)).toEqual([0]);
  }, 300_000);

  it("a red feature branch is reported once, and no agent starts: no attempt is spent", async () => {
    const p = await project({
      name: "vt-red",
      verify: { all: "sh check.sh" },
      files: { "check.sh": "#!/bin/sh\necho the build is broken on the base\nexit 1\n" },
      issues: {
        62: issueFile("Add a", "cspace-script: commit a.txt a"),
        63: issueFile("Add b", "cspace-script: commit b.txt b"),
      },
    });
    const run = await p.coordinate([62, 63], 180_000);
    expect(run.status, explain(run)).toBe(1);

    expect(p.subjects()).toEqual([]);
    const events = eventsOf(run.stdout);
    expect(ofType(events, "BaseVerified").map((event) => event.passed)).toEqual([false]);
    expect(ofType(events, "Launched")).toEqual([]);
    for (const n of [62, 63]) {
      const row = rowOf(run.report, n);
      expect([row.status, row.attempts]).toEqual(["blocked", 0]);
    }
    expect(ofType(events, "Blocked").map((event) => event.reason)).toEqual([
      expect.stringMatching(/is red at [0-9a-f]{7}: every candidate would fail/),
      expect.stringMatching(/is red at [0-9a-f]{7}: every candidate would fail/),
    ]);
    expect(p.git("for-each-ref", "--format=%(refname:short)", "refs/heads/")).toBe("main");
  }, 240_000);
});
