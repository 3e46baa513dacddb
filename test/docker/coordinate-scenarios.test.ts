import { describe, expect, it } from "vitest";
import { at, explain, issueFile, useCoordinateProjects, REBASE_TEMPLATE, retryTemplate, rowOf } from "../support/coordinate-project.ts";

/**
 * `cspace coordinate` scenarios on the local forge with scripted agents in
 * real containers (issue 9, "Tests"). Each is judged by the remote's final
 * history and the forge's state (pull-request records in the bare remote,
 * issue files' state) and the `--json` report's rows, never by log text.
 */

const project = useCoordinateProjects();

describe("cspace coordinate scenarios on the local forge", () => {
  it("a diamond: 13 (blocked by 11 and 12) is squash-merged after both", async () => {
    const p = await project({
      name: "co-diamond",
      issues: {
        11: issueFile("Add the left side", "cspace-script: commit left.txt left"),
        12: issueFile("Add the right side", "cspace-script: commit right.txt right"),
        13: issueFile("Join both sides", "cspace-script: commit join.txt both", [11, 12]),
      },
    });
    const run = await p.coordinate([11, 12, 13]);
    expect(run.status, explain(run)).toBe(0);

    const subjects = p.subjects();
    expect(subjects).toHaveLength(3);
    expect(at(subjects, "Add the left side")).toBeGreaterThanOrEqual(0);
    expect(at(subjects, "Add the right side")).toBeGreaterThanOrEqual(0);
    expect(at(subjects, "Join both sides")).toBe(2);
    expect(p.git("rev-list", "--merges", `${p.repo.head}..main`)).toBe("");
    for (const [file, text] of [["left.txt", "left"], ["right.txt", "right"], ["join.txt", "both"]]) expect(p.git("show", `main:${file}`)).toBe(text);
    expect(p.git("for-each-ref", "--format=%(refname:short)", "refs/heads/")).toBe("main");
    const records = await p.pullRequests();
    expect(records.map((pr) => [pr.head, pr.state]).sort()).toEqual([["issue-11", "merged"], ["issue-12", "merged"], ["issue-13", "merged"]]);
    for (const n of [11, 12, 13]) expect(await p.issueState(n)).toBe("closed");
  });

  it("two issues editing the same line: the second is rebased through the rebase template, and main has its text on top of the first", async () => {
    const p = await project({
      name: "co-conflict",
      files: { "greeting.txt": "hi\n", ".cspace/templates/rebase.md.hbs": REBASE_TEMPLATE },
      issues: {
        20: issueFile("Greet in English", "cspace-script: sleep 1\ncspace-script: commit greeting.txt hello"),
        21: issueFile("Greet in French", "cspace-script: sleep 1\ncspace-script: commit greeting.txt bonjour"),
      },
    });
    const run = await p.coordinate([20, 21]);
    expect(run.status, explain(run)).toBe(0);

    const subjects = p.subjects();
    expect(subjects).toHaveLength(2);
    const englishFirst = at(subjects, "Greet in English") === 0;
    const [first, second] = englishFirst ? [20, 21] : [21, 20];
    expect(at(subjects, englishFirst ? "Greet in French" : "Greet in English")).toBe(1);
    // The second squash sits on the first, and what it left is its own text.
    expect(p.git("show", "main:greeting.txt")).toBe(englishFirst ? "bonjour" : "hello");
    expect(p.git("show", "main~1:greeting.txt")).toBe(englishFirst ? "hello" : "bonjour");
    expect(p.git("rev-list", "--merges", `${p.repo.head}..main`)).toBe("");
    expect(p.git("for-each-ref", "--format=%(refname:short)", "refs/heads/")).toBe("main");
    const records = await p.pullRequests();
    expect(records.filter((pr) => pr.state === "merged").map((pr) => pr.head).sort()).toEqual(["issue-20", "issue-21"]);
    // The second was sent back to its agent once, to rebase.
    expect(rowOf(run.report, first).attempts).toBe(1);
    expect(rowOf(run.report, second).attempts).toBe(2);
    for (const n of [20, 21]) expect(await p.issueState(n)).toBe("closed");
  });

  it("an agent that fails once then succeeds on the retry prompt is merged after two attempts", async () => {
    const p = await project({
      name: "co-retry",
      coordinator: { maxAttempts: 2 },
      files: { ".cspace/templates/retry.md.hbs": retryTemplate("fixed.txt", "second try") },
      issues: { 30: issueFile("Fix on the second try", "cspace-script: fail 3") },
    });
    const run = await p.coordinate([30]);
    expect(run.status, explain(run)).toBe(0);

    expect(p.subjects()).toHaveLength(1);
    expect(at(p.subjects(), "Fix on the second try")).toBe(0);
    expect(p.git("show", "main:fixed.txt")).toBe("second try");
    expect((await p.pullRequests()).map((pr) => [pr.head, pr.state])).toEqual([["issue-30", "merged"]]);
    expect(await p.issueState(30)).toBe("closed");
    const row = rowOf(run.report, 30);
    expect([row.status, row.attempts, row.failedAttempts]).toEqual(["merged", 2, 1]);
  });

  it("an agent that always fails: that issue failed after maxAttempts, its dependent blocked, an independent one merged, exit 1", async () => {
    const p = await project({
      name: "co-fail",
      coordinator: { maxAttempts: 2 },
      issues: {
        40: issueFile("Never works", "cspace-script: fail 3"),
        41: issueFile("Builds on the broken one", "cspace-script: commit on-top.txt never", [40]),
        42: issueFile("Stands alone", "cspace-script: commit alone.txt fine"),
      },
    });
    const run = await p.coordinate([40, 41, 42]);
    expect(run.status, explain(run)).toBe(1);

    expect(p.subjects()).toEqual([expect.stringMatching(/^Stands alone/)]);
    expect(p.git("show", "main:alone.txt")).toBe("fine");
    expect(p.git("ls-tree", "--name-only", "main").split("\n")).not.toContain("on-top.txt");
    const records = await p.pullRequests();
    expect(records.filter((pr) => pr.state === "merged").map((pr) => pr.head)).toEqual(["issue-42"]);
    // Neither the failed issue nor its dependent pushed work of its own: the empty branches the run made are gone.
    expect(p.git("for-each-ref", "--format=%(refname:short)", "refs/heads/")).toBe("main");
    expect(await p.issueState(42)).toBe("closed");
    expect(await p.issueState(40)).toBe("open");
    expect(await p.issueState(41)).toBe("open");
    const failed = rowOf(run.report, 40);
    expect([failed.status, failed.attempts, failed.failedAttempts]).toEqual(["failed", 2, 2]);
    expect(rowOf(run.report, 41).status).toBe("blocked");
    expect(rowOf(run.report, 42).status).toBe("merged");
  });

  it("an agent that crashes counts as a failed attempt: retried, merged on the retry, no hang", async () => {
    const p = await project({
      name: "co-crash",
      coordinator: { maxAttempts: 2 },
      files: { ".cspace/templates/retry.md.hbs": retryTemplate("recovered.txt", "after the crash") },
      issues: { 50: issueFile("Crash first", "cspace-script: crash") },
    });
    const run = await p.coordinate([50]);
    expect(run.status, explain(run)).toBe(0);

    expect(p.subjects()).toEqual([expect.stringMatching(/^Crash first/)]);
    expect(p.git("show", "main:recovered.txt")).toBe("after the crash");
    expect((await p.pullRequests()).map((pr) => [pr.head, pr.state])).toEqual([["issue-50", "merged"]]);
    expect(await p.issueState(50)).toBe("closed");
    const row = rowOf(run.report, 50);
    expect([row.status, row.attempts, row.failedAttempts]).toEqual(["merged", 2, 1]);
  });

  it("an agent whose CLI the image lacks, with no npm to install it: the run is refused before anything starts, naming the Dockerfile line to add", async () => {
    const p = await project({
      name: "co-no-cli",
      agent: { preset: "claude" },
      coordinator: { maxAttempts: 2 },
      issues: { 70: issueFile("Needs Claude", "Add a greeting.") },
    });
    const run = await p.coordinate([70]);
    // The preflight (doctor's checks of the worker image) finds it before any launch: no attempt is spent on it.
    expect(run.status, explain(run)).toBe(2);
    expect(run.stderr).toContain("claude is not on the container user's PATH");
    expect(run.stderr).toContain("Add `RUN npm install -g @anthropic-ai/claude-code@");
    expect(p.subjects()).toEqual([]);
    expect(p.git("for-each-ref", "--format=%(refname:short)", "refs/heads/")).toBe("main");
  });

  it("a blocked worker: recorded blocked with its reason, its dependent blocked, the rest merged, its instance kept", async () => {
    const p = await project({
      name: "co-blocked",
      issues: {
        60: issueFile("Needs a decision", "cspace-script: blocked needs the schema"),
        61: issueFile("Uses the decision", "cspace-script: commit uses.txt schema", [60]),
        62: issueFile("Unrelated", "cspace-script: commit unrelated.txt fine"),
      },
    });
    const run = await p.coordinate([60, 61, 62]);
    expect(run.status, explain(run)).toBe(1);

    expect(p.subjects()).toEqual([expect.stringMatching(/^Unrelated/)]);
    expect(p.git("show", "main:unrelated.txt")).toBe("fine");
    const records = await p.pullRequests();
    expect(records.filter((pr) => pr.state === "merged").map((pr) => pr.head)).toEqual(["issue-62"]);
    expect(await p.issueState(62)).toBe("closed");
    expect(await p.issueState(60)).toBe("open");
    expect(await p.issueState(61)).toBe("open");
    const blocked = rowOf(run.report, 60);
    expect(blocked.status).toBe("blocked");
    expect(blocked.reason).toContain("needs the schema");
    expect(rowOf(run.report, 61).status).toBe("blocked");
    expect(rowOf(run.report, 62).status).toBe("merged");
    // Kept for a person to look at.
    expect(await p.instances()).toContain("issue-60");
  });
});
