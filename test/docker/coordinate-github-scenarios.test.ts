import { describe, expect, it } from "vitest";
import { useGithubProjects, type GithubProject } from "../support/coordinate-github.ts";
import { at, explain as explainRun, REBASE_TEMPLATE, retryTemplate, rowOf as rowFor } from "../support/coordinate-project.ts";

/**
 * The `cspace coordinate` scenarios of coordinate-scenarios.test.ts on the
 * GitHub simulator with scripted agents in real containers. Each is judged by
 * the simulator's bare repository (squash commits on main, file contents), its
 * pull-request and issue records and `assertNoViolations()`, never by log text.
 */

const project = useGithubProjects();

function issueState(p: GithubProject, n: number): { state: string; stateReason: string | null } | undefined {
  const issue = p.simulator.world.issues.get(n);
  return issue === undefined ? undefined : { state: issue.state, stateReason: issue.stateReason };
}

/** Every merged pull request's merge commit is on the simulator's main. */
function expectMergesOnMain(p: GithubProject): void {
  const onMain = p.git("rev-list", "main").split("\n");
  for (const pr of p.simulator.world.pulls.values()) if (pr.merged) expect(onMain).toContain(pr.mergeSha);
}

describe("cspace coordinate scenarios on GitHub (the simulator)", () => {
  it("a diamond: 13 (blocked by 11 and 12) is squash-merged after both", async () => {
    const p = await project({
      name: "cogh-diamond",
      issues: [
        { number: 11, title: "Add the left side", body: "cspace-script: commit left.txt left" },
        { number: 12, title: "Add the right side", body: "cspace-script: commit right.txt right" },
        { number: 13, title: "Join both sides", body: "cspace-script: commit join.txt both", blockedBy: [11, 12] },
      ],
    });
    const run = await p.coordinate([11, 12, 13]);
    expect(run.status, explainRun(run)).toBe(0);

    const subjects = p.subjects();
    expect(subjects).toHaveLength(3);
    expect(at(subjects, "Add the left side")).toBeGreaterThanOrEqual(0);
    expect(at(subjects, "Add the right side")).toBeGreaterThanOrEqual(0);
    expect(at(subjects, "Join both sides")).toBe(2);
    expect(p.git("rev-list", "--merges", `${p.repo.head}..main`)).toBe("");
    for (const [file, text] of [["left.txt", "left"], ["right.txt", "right"], ["join.txt", "both"]]) expect(p.git("show", `main:${file}`)).toBe(text);
    expect(p.git("for-each-ref", "--format=%(refname:short)", "refs/heads/")).toBe("main");
    expect(p.pulls()).toEqual([["issue-11", true], ["issue-12", true], ["issue-13", true]]);
    expectMergesOnMain(p);
    for (const n of [11, 12, 13]) expect(issueState(p, n)).toEqual({ state: "closed", stateReason: "completed" });
    expect(p.simulator.requests.filter((r) => r.operationId === "pulls/merge" && r.status === 200)).toHaveLength(3);
    p.simulator.assertNoViolations();
  }, 300_000);

  it("two issues editing the same line: the second is rebased through the rebase template, and main has its text on top of the first", async () => {
    const p = await project({
      name: "cogh-conflict",
      files: { "greeting.txt": "hi\n", ".cspace/templates/rebase.md.hbs": REBASE_TEMPLATE },
      issues: [
        { number: 20, title: "Greet in English", body: "cspace-script: sleep 1\ncspace-script: commit greeting.txt hello" },
        { number: 21, title: "Greet in French", body: "cspace-script: sleep 1\ncspace-script: commit greeting.txt bonjour" },
      ],
    });
    const run = await p.coordinate([20, 21]);
    expect(run.status, explainRun(run)).toBe(0);

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
    expect(p.pulls().filter(([, merged]) => merged).map(([head]) => head)).toEqual(["issue-20", "issue-21"]);
    expectMergesOnMain(p);
    // The second was sent back to its agent once, to rebase.
    expect(rowFor(run.report, first).attempts).toBe(1);
    expect(rowFor(run.report, second).attempts).toBe(2);
    for (const n of [20, 21]) expect(issueState(p, n)).toEqual({ state: "closed", stateReason: "completed" });
    p.simulator.assertNoViolations();
  }, 300_000);

  it("an agent that fails once then succeeds on the retry prompt is merged after two attempts", async () => {
    const p = await project({
      name: "cogh-retry",
      coordinator: { maxAttempts: 2 },
      files: { ".cspace/templates/retry.md.hbs": retryTemplate("fixed.txt", "second try") },
      issues: [{ number: 30, title: "Fix on the second try", body: "cspace-script: fail 3" }],
    });
    const run = await p.coordinate([30]);
    expect(run.status, explainRun(run)).toBe(0);

    expect(p.subjects()).toEqual([expect.stringMatching(/^Fix on the second try/)]);
    expect(p.git("show", "main:fixed.txt")).toBe("second try");
    expect(p.git("for-each-ref", "--format=%(refname:short)", "refs/heads/")).toBe("main");
    expect(p.pulls()).toEqual([["issue-30", true]]);
    expectMergesOnMain(p);
    expect(issueState(p, 30)).toEqual({ state: "closed", stateReason: "completed" });
    const row = rowFor(run.report, 30);
    expect([row.status, row.attempts, row.failedAttempts]).toEqual(["merged", 2, 1]);
    p.simulator.assertNoViolations();
  }, 300_000);

  it("an agent that always fails: that issue failed after maxAttempts, its dependent blocked, no empty branch left, an independent one merged, exit 1", async () => {
    const p = await project({
      name: "cogh-fail",
      coordinator: { maxAttempts: 2 },
      issues: [
        { number: 40, title: "Never works", body: "cspace-script: fail 3" },
        { number: 41, title: "Builds on the broken one", body: "cspace-script: commit on-top.txt never", blockedBy: [40] },
        { number: 42, title: "Stands alone", body: "cspace-script: commit alone.txt fine" },
      ],
    });
    const run = await p.coordinate([40, 41, 42]);
    expect(run.status, explainRun(run)).toBe(1);

    expect(p.subjects()).toEqual([expect.stringMatching(/^Stands alone/)]);
    expect(p.git("show", "main:alone.txt")).toBe("fine");
    expect(p.git("ls-tree", "--name-only", "main").split("\n")).not.toContain("on-top.txt");
    expect(p.git("rev-list", "--merges", `${p.repo.head}..main`)).toBe("");
    expect(p.pulls().filter(([, merged]) => merged)).toEqual([["issue-42", true]]);
    expectMergesOnMain(p);
    // Neither the failed issue nor its dependent pushed work of its own: the empty branches the run made are gone.
    expect(p.git("for-each-ref", "--format=%(refname:short)", "refs/heads/")).toBe("main");
    expect(p.pulls().map(([head]) => head)).toEqual(["issue-42"]);
    expect(issueState(p, 42)).toEqual({ state: "closed", stateReason: "completed" });
    expect(issueState(p, 40)?.state).toBe("open");
    expect(issueState(p, 41)?.state).toBe("open");
    const failed = rowFor(run.report, 40);
    expect([failed.status, failed.attempts, failed.failedAttempts]).toEqual(["failed", 2, 2]);
    expect(rowFor(run.report, 41).status).toBe("blocked");
    expect(rowFor(run.report, 42).status).toBe("merged");
    p.simulator.assertNoViolations();
  }, 300_000);

  it("an agent that crashes counts as a failed attempt: retried, merged on the retry, no hang", async () => {
    const p = await project({
      name: "cogh-crash",
      coordinator: { maxAttempts: 2 },
      files: { ".cspace/templates/retry.md.hbs": retryTemplate("recovered.txt", "after the crash") },
      issues: [{ number: 50, title: "Crash first", body: "cspace-script: crash" }],
    });
    const run = await p.coordinate([50]);
    expect(run.status, explainRun(run)).toBe(0);

    expect(p.subjects()).toEqual([expect.stringMatching(/^Crash first/)]);
    expect(p.git("show", "main:recovered.txt")).toBe("after the crash");
    expect(p.git("for-each-ref", "--format=%(refname:short)", "refs/heads/")).toBe("main");
    expect(p.pulls()).toEqual([["issue-50", true]]);
    expectMergesOnMain(p);
    expect(issueState(p, 50)).toEqual({ state: "closed", stateReason: "completed" });
    const row = rowFor(run.report, 50);
    expect([row.status, row.attempts, row.failedAttempts]).toEqual(["merged", 2, 1]);
    p.simulator.assertNoViolations();
  }, 300_000);

  it("a blocked worker: its dependent blocked, the rest merged, exit 1", async () => {
    const p = await project({
      name: "cogh-blocked",
      issues: [
        { number: 60, title: "Needs a decision", body: "cspace-script: blocked needs the schema" },
        { number: 61, title: "Uses the decision", body: "cspace-script: commit uses.txt schema", blockedBy: [60] },
        { number: 62, title: "Unrelated", body: "cspace-script: commit unrelated.txt fine" },
      ],
    });
    const run = await p.coordinate([60, 61, 62]);
    expect(run.status, explainRun(run)).toBe(1);

    expect(p.subjects()).toEqual([expect.stringMatching(/^Unrelated/)]);
    expect(p.git("show", "main:unrelated.txt")).toBe("fine");
    expect(p.git("ls-tree", "--name-only", "main").split("\n")).not.toContain("uses.txt");
    // Only the unrelated issue reached a merged pull request; the blocked one and its dependent none.
    expect(p.pulls().filter(([, merged]) => merged)).toEqual([["issue-62", true]]);
    expect(p.pulls().map(([head]) => head)).not.toContain("issue-61");
    expectMergesOnMain(p);
    expect(issueState(p, 62)).toEqual({ state: "closed", stateReason: "completed" });
    expect(issueState(p, 60)?.state).toBe("open");
    expect(issueState(p, 61)?.state).toBe("open");
    const blocked = rowFor(run.report, 60);
    expect(blocked.status).toBe("blocked");
    expect(blocked.reason).toContain("needs the schema");
    expect(rowFor(run.report, 61).status).toBe("blocked");
    expect(rowFor(run.report, 62).status).toBe("merged");
    p.simulator.assertNoViolations();
  }, 300_000);
});
