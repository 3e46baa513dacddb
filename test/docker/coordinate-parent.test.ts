import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { parseComments } from "../../src/adapters/forge/local/local-comments.ts";
import { isProgressComment } from "../../src/core/dashboard/progress-comment.ts";
import { makeGithubProject, type GithubProject } from "../support/coordinate-github.ts";
import { explain, runCoordinate, useCoordinateProjects, type CoordinateRun } from "../support/coordinate-project.ts";
import { testDocker } from "../support/docker.ts";
import { issueIdOf } from "../support/github-simulator/world.ts";

/**
 * `cspace coordinate --parent 40` end to end on the real engine, on both
 * forges: exactly the sub-issues of #40 run to merged (an issue that is not
 * one is left alone), and with coordinator.progressComments the parent holds
 * exactly one cspace comment whose final text, read back from the forge,
 * lists every sub-issue merged with its pull request.
 */

const runId = inject("cspaceTestRun");
const makeProject = useCoordinateProjects();
const docker = testDocker();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The run's id, from its JSON report. */
function runIdOf(run: CoordinateRun): string {
  const id = run.report?.runId ?? null;
  if (id === null) throw new Error(`the run printed no report with its id\n${explain(run)}`);
  return id;
}

/** Each sub-issue's row says merged and links its pull request. */
function expectMergedRows(body: string, rows: readonly { issue: number; title: string; pr: number }[]): void {
  expect(body).toContain(`### cspace: ${String(rows.length)} of ${String(rows.length)} merged — run ended`);
  for (const { issue, title, pr } of rows) {
    const line = body.split("\n").find((l) => l.startsWith(`| #${String(issue)} ${title} |`) || l.startsWith(`| ↳ #${String(issue)} ${title} |`));
    expect(line, `${body}\n(no row for #${String(issue)})`).toBeDefined();
    expect(line).toMatch(new RegExp(`\\| ✅ merged as [0-9a-f]+ \\(#${String(pr)}\\) \\| \\[#${String(pr)}\\]\\(\\S+\\) \\|$`));
  }
}

describe("cspace coordinate --parent with a progress comment", () => {
  it("on the local forge: runs exactly the issues whose front matter names #40, and leaves one final comment on 40.md", async () => {
    const project = await makeProject({
      name: "co-parent-local",
      coordinator: { progressComments: true },
      issues: {
        40: "---\ntitle: Checkout epic\n---\nThe sub-issues are the work.\n",
        41: "---\ntitle: Cart total\nparent: 40\n---\ncspace-script: commit cart.txt total\n",
        42: "---\ntitle: Receipt\nparent: 40\n---\nblocked-by: #41\n\ncspace-script: commit receipt.txt printed\n",
        43: "---\ntitle: Not a sub-issue\n---\ncspace-script: commit other.txt no\n",
      },
    });
    const run = await runCoordinate(project.repo, [], 300_000, {}, ["--parent", "40"]);
    expect(run.status, explain(run)).toBe(0);
    const pulls = await project.pullRequests();
    expect(pulls.map((pr) => [pr.head, pr.state]).sort()).toEqual([["issue-41", "merged"], ["issue-42", "merged"]]);
    expect(project.subjects().map((s) => s.replace(/ \(.*$/, ""))).toEqual(["Cart total", "Receipt"]);
    expect(await project.issueState(43)).toBe("open");
    expect(await project.issueState(40)).toBe("open");

    const text = await readFile(path.join(project.repo.dir, ".cspace", "issues", "40.comments.md"), "utf8");
    const comments = parseComments(text);
    expect(comments, text).toHaveLength(1);
    const body = comments[0]?.body ?? "";
    expect(isProgressComment(body, runIdOf(run))).toBe(true);
    // Local pull requests are numbered in the order they were opened: 41's first, since 42 waits on it.
    expectMergedRows(body, [{ issue: 41, title: "Cart total", pr: 1 }, { issue: 42, title: "Receipt", pr: 2 }]);
    // Edited in place: the file says the one comment was edited.
    expect(text).toMatch(/^### Comment by cspace at \S+, edited \S+$/m);
  }, 600_000);

  it("on GitHub (the simulator): runs exactly #40's sub-issues and edits one comment on #40 to its final text", async () => {
    const project: GithubProject = await makeGithubProject(docker, runId, {
      name: "co-parent-gh",
      coordinator: { progressComments: true },
      issues: [
        { number: 40, title: "Checkout epic", body: "The sub-issues are the work." },
        { number: 41, title: "Cart total", body: "cspace-script: commit cart.txt total" },
        { number: 42, title: "Receipt", body: "cspace-script: commit receipt.txt printed", blockedBy: [41] },
        { number: 43, title: "Not a sub-issue", body: "cspace-script: commit other.txt no" },
      ],
    });
    cleanups.push(() => project.remove());
    const { simulator } = project;
    // Set up as a person would on GitHub: each sub-issue added to #40 by its id, through the REST API.
    for (const child of [41, 42]) {
      const response = await fetch(`${simulator.url}/repos/octo/widgets/issues/40/sub_issues`, {
        method: "POST",
        headers: { authorization: `Bearer ${simulator.token}`, "content-type": "application/json", accept: "application/vnd.github+json" },
        body: JSON.stringify({ sub_issue_id: issueIdOf(child) }),
      });
      expect(response.status).toBe(201);
    }
    simulator.resetRecords();

    const run = await runCoordinate(project.repo, [], 300_000, project.env, ["--parent", "40"]);
    expect(run.status, explain(run)).toBe(0);
    expect(project.pulls()).toEqual([["issue-41", true], ["issue-42", true]]);
    expect(simulator.world.issues.get(43)?.state).toBe("open");
    expect(simulator.world.issues.get(40)?.state).toBe("open");

    const comments = simulator.world.issues.get(40)?.comments ?? [];
    expect(comments.map((c) => c.body.split("\n")[0])).toHaveLength(1);
    const body = comments[0]?.body ?? "";
    expect(isProgressComment(body, runIdOf(run))).toBe(true);
    const prOf = (head: string) => [...simulator.world.pulls.values()].find((pr) => pr.head === head)?.number ?? 0;
    expectMergedRows(body, [{ issue: 41, title: "Cart total", pr: prOf("issue-41") }, { issue: 42, title: "Receipt", pr: prOf("issue-42") }]);
    const calls = (operationId: string) => simulator.requests.filter((r) => r.operationId === operationId && r.status < 300);
    expect(calls("issues/list-sub-issues").length).toBeGreaterThan(0);
    expect(calls("issues/create-comment")).toHaveLength(1);
    expect(calls("issues/update-comment").length).toBeGreaterThan(0);
    simulator.assertNoViolations();
  }, 600_000);
});
