import { describe, expect, it } from "vitest";
import { explain, issueFile, rowOf, useCoordinateProjects } from "../support/coordinate-project.ts";
import { CALL_WELCOME_RETRY, CALLERS_CHECK, eventsOf, ofType, verifyEachCommit } from "../support/verified-trees.ts";

/**
 * Only verified trees land (issue 14, "The rule"), on the local forge with
 * scripted agents in real containers. Each run is judged by checking out
 * every commit it added to the feature branch and running verify on it, and
 * by the run's own events (NDJSON on stdout) for what the agents were told.
 */

const project = useCoordinateProjects();

describe("only verified trees land, on the local forge", () => {
  it("a semantic conflict between two independent issues: the second is sent back with what changed underneath, and merges on its next attempt", async () => {
    const p = await project({
      name: "vt-semantic",
      coordinator: { maxAttempts: 2 },
      verify: { all: "sh check.sh" },
      files: { "check.sh": CALLERS_CHECK, "names.txt": "greet\n", ".cspace/templates/retry.md.hbs": CALL_WELCOME_RETRY },
      issues: {
        60: issueFile("Rename greet to welcome", "cspace-script: commit names.txt welcome"),
        61: issueFile("Add a caller of greet", "cspace-script: commit callers/hello.txt greet"),
      },
    });
    const run = await p.coordinate([60, 61], 240_000);
    expect(run.status, explain(run)).toBe(0);

    // Every commit the run put on main passes verify, checked out alone.
    const verdicts = await verifyEachCommit(p.remote, p.repo.head, "main", "sh check.sh");
    expect(verdicts.map((v) => [v.exitCode, v.output]), explain(run)).toEqual([
      [0, "all callers resolve\n"],
      [0, "all callers resolve\n"],
    ]);
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
    expect(await verifyEachCommit(p.remote, p.repo.head, "main", "sh check.sh")).toEqual([]);
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
