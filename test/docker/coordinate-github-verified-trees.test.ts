import { describe, expect, it } from "vitest";
import { useGithubProjects } from "../support/coordinate-github.ts";
import { explain, rowOf } from "../support/coordinate-project.ts";
import { CALL_WELCOME_RETRY, CALLERS_CHECK, eventsOf, ofType, verifyEachCommit } from "../support/verified-trees.ts";

/**
 * Only verified trees land, on GitHub (the simulator): the scenario of
 * coordinate-verified-trees.test.ts, judged by the simulator's repository:
 * every commit the run put on main, checked out alone, passes verify, and
 * each squash commit's tree is the tree that was verified (no
 * `LandingMismatched`: the run compares them after every merge).
 */

const project = useGithubProjects();

describe("only verified trees land, on GitHub (the simulator)", () => {
  it("a semantic conflict between two independent issues: the second is sent back with what changed underneath, merges next, and each squash tree is the verified one", async () => {
    const p = await project({
      name: "vtgh-semantic",
      coordinator: { maxAttempts: 2 },
      verify: { all: "sh check.sh" },
      files: { "check.sh": CALLERS_CHECK, "names.txt": "greet\n", ".cspace/templates/retry.md.hbs": CALL_WELCOME_RETRY },
      issues: [
        { number: 70, title: "Rename greet to welcome", body: "cspace-script: commit names.txt welcome" },
        { number: 71, title: "Add a caller of greet", body: "cspace-script: commit callers/hello.txt greet" },
      ],
    });
    const run = await p.coordinate([70, 71], 240_000);
    expect(run.status, explain(run)).toBe(0);

    const verdicts = await verifyEachCommit(p.simulator.world.git.dir, p.repo.head, "main", "sh check.sh");
    expect(verdicts.map((v) => [v.exitCode, v.output]), explain(run)).toEqual([
      [0, "all callers resolve\n"],
      [0, "all callers resolve\n"],
    ]);
    const events = eventsOf(run.stdout);
    const failed = ofType(events, "LandingFailed");
    expect(failed).toHaveLength(1);
    const second = failed[0]?.issue ?? 0;
    const retried = ofType(events, "Retried").find((event) => event.issue === second);
    expect(retried?.failure.output).toContain("What changed underneath");
    expect(rowOf(run.report, second).attempts).toBe(2);
    // The trees were compared after each merge, and matched.
    expect(ofType(events, "LandingMismatched")).toEqual([]);
    const verified = new Set(ofType(events, "LandingVerified").map((event) => event.tree));
    for (const merged of ofType(events, "Merged")) expect(verified).toContain(p.git("rev-parse", `${merged.squashSha}^{tree}`));
  }, 300_000);

  it("a red feature branch is reported once, and no agent starts: no attempt is spent, no branch or pull request is made", async () => {
    const p = await project({
      name: "vtgh-red",
      verify: { all: "sh check.sh" },
      files: { "check.sh": "#!/bin/sh\necho the build is broken on the base\nexit 1\n" },
      issues: [
        { number: 72, title: "Add a", body: "cspace-script: commit a.txt a" },
        { number: 73, title: "Add b", body: "cspace-script: commit b.txt b" },
      ],
    });
    const run = await p.coordinate([72, 73], 180_000);
    expect(run.status, explain(run)).toBe(1);

    // Nothing reached main, so nothing there is unverified.
    expect(await verifyEachCommit(p.simulator.world.git.dir, p.repo.head, "main", "sh check.sh")).toEqual([]);
    const events = eventsOf(run.stdout);
    // The tip was verified alone once, and that one red verdict blocks both issues before any agent starts.
    const verdicts = ofType(events, "BaseVerified");
    expect(verdicts.map((event) => [event.passed, event.baseSha])).toEqual([[false, p.repo.head]]);
    expect(verdicts[0]?.outputTail).toContain("the build is broken on the base");
    expect(ofType(events, "Launched")).toEqual([]);
    for (const n of [72, 73]) {
      const row = rowOf(run.report, n);
      expect([row.status, row.attempts]).toEqual(["blocked", 0]);
    }
    const red = `main is red at ${p.repo.head.slice(0, 7)}: every candidate would fail (sh check.sh exited 1)`;
    // Each blocked once, in whichever order their workers came free.
    expect(ofType(events, "Blocked").map((event) => [event.issue, event.reason]).sort()).toEqual([
      [72, red],
      [73, red],
    ]);
    expect(p.git("for-each-ref", "--format=%(refname:short)", "refs/heads/")).toBe("main");
    expect(p.pulls()).toEqual([]);
  }, 240_000);
});
