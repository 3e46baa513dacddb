import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { BASE_IMAGE, testDocker } from "../support/docker.ts";
import { makeFixtureRepo } from "../support/fixture-repo.ts";

/**
 * `cspace coordinate` end to end on the real engine: the local forge (a bare
 * remote beside the project), scripted agents following their issues'
 * instruction lines. Judged by the remote's git history and the forge's
 * records, never by log text.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function issue(title: string, body: string): string {
  return `---\ntitle: ${title}\n---\n${body}\n`;
}

describe("cspace coordinate on the local forge with scripted agents", () => {
  it("takes 10, 11 and 12 (blocked by 10) to three squash commits on the remote's main, in dependency order", async () => {
    const repo = await makeFixtureRepo({
      projectName: `co-chain-${runId}`.slice(0, 60),
      devcontainer: { image: BASE_IMAGE },
      config: { agent: { preset: "scripted" }, forge: { type: "local", remote: "../remote.git" }, coordinator: { maxParallel: 3 } },
      files: {
        ".cspace/issues/10.md": issue("Add the greeting", "cspace-script: commit greeting.txt hello"),
        ".cspace/issues/11.md": issue("Add the farewell", "cspace-script: commit farewell.txt goodbye"),
        ".cspace/issues/12.md": issue("Greet by name", "blocked-by: #10\n\ncspace-script: commit name.txt world"),
      },
    });
    const id = projectId(repo.projectName, repo.dir);
    cleanups.push(async () => {
      const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } });
      await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
      await repo.remove();
    });
    const remote = path.join(path.dirname(repo.dir), "remote.git");
    execFileSync("git", ["clone", "--quiet", "--bare", repo.dir, remote]);
    const git = (...args: string[]): string => execFileSync("git", ["--git-dir", remote, ...args], { encoding: "utf8" }).trim();

    const run = await runCliAsync(["--cwd", repo.dir, "coordinate", "10", "11", "12", "--json"], { env: repo.env });
    expect(run.stderr).not.toMatch(/"kind":"fatal"/);
    expect(run.status, run.stderr.slice(-4000)).toBe(0);

    // Three squash commits on main above the fixture's, 10 before 12.
    const subjects = git("log", "--format=%s", `${repo.head}..main`).split("\n").reverse();
    expect(subjects).toHaveLength(3);
    const at = (title: string): number => subjects.findIndex((s) => s.startsWith(title));
    expect(at("Add the greeting")).toBeGreaterThanOrEqual(0);
    expect(at("Add the farewell")).toBeGreaterThanOrEqual(0);
    expect(at("Greet by name")).toBeGreaterThan(at("Add the greeting"));
    // Squash commits: one parent each, a straight line.
    expect(git("rev-list", "--merges", `${repo.head}..main`)).toBe("");
    expect(git("ls-tree", "--name-only", "main").split("\n")).toEqual(expect.arrayContaining(["greeting.txt", "farewell.txt", "name.txt"]));
    expect(git("show", "main:name.txt")).toBe("world");
    // No issue branch is left on the remote.
    expect(git("for-each-ref", "--format=%(refname:short)", "refs/heads/")).toBe("main");

    const records = JSON.parse(await readFile(path.join(remote, "cspace", "pull-requests.json"), "utf8")) as { pullRequests: { head: string; state: string; mergeSha: string | null }[] };
    expect(records.pullRequests.map((pr) => [pr.head, pr.state]).sort()).toEqual([["issue-10", "merged"], ["issue-11", "merged"], ["issue-12", "merged"]]);
    const onMain = git("rev-list", "main").split("\n");
    for (const pr of records.pullRequests) expect(onMain).toContain(pr.mergeSha);

    for (const n of [10, 11, 12]) expect(await readFile(path.join(repo.dir, ".cspace", "issues", `${String(n)}.md`), "utf8")).toMatch(/^state: closed$/m);
  }, 600_000);
});
