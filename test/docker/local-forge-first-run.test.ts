import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCliAsync } from "../support/cli-async.ts";
import { explain, issueFile, useCoordinateProjects } from "../support/coordinate-project.ts";

/**
 * Issue 15's local-forge trap, as a new user meets it: `init --local-forge`,
 * a commit, then `warm` and `coordinate`. The bare repository is the
 * checkout's remote, warm and the run start from the same commit (the
 * forge's), and a local branch ahead of the forge's is said, with the push
 * that fixes it; once pushed, the run has it.
 */

const project = useCoordinateProjects();

describe("init --local-forge, then a commit, then warm and coordinate", () => {
  it("wires the remote; warm and coordinate start from the forge's main and say the local main is ahead; a plain push puts it in the next run", async () => {
    const p = await project({ name: "local-forge-first-run", issues: { 1: issueFile("One", "cspace-script: commit one.txt one"), 2: issueFile("Two", "cspace-script: commit two.txt two") } });
    const { repo } = p;
    const cli = (args: readonly string[]) => runCliAsync(["--cwd", repo.dir, ...args], { env: repo.env });
    const git = (...args: string[]) => execFileSync("git", args, { cwd: repo.dir, encoding: "utf8" }).trim();

    const init = await cli(["init", "--local-forge", "--remote", "../remote.git", "--json"]);
    expect(init.status, init.stderr).toBe(0);
    expect((JSON.parse(init.stdout) as { remote: unknown }).remote).toEqual({ name: "origin", added: true, branch: "main", pushProblem: null });

    await writeFile(path.join(repo.dir, "later.txt"), "written after init\n");
    git("add", "later.txt");
    git("commit", "--quiet", "-m", "Later work");
    const ahead = "main is 1 commit ahead of the forge's main: push it (git push origin main) or it is not in the run";

    const warmed = await cli(["warm", "issue-9"]);
    expect(warmed.status, warmed.stderr).toBe(0);
    expect(warmed.stderr).toContain(`warning: ${ahead}`);
    // The same commit a run's launch starts from: the forge's main, not the local HEAD.
    const checkout = await cli(["exec", "issue-9", "--", "git", "rev-parse", "HEAD"]);
    expect(checkout.stdout.trim()).toBe(p.git("rev-parse", "main"));

    const first = await p.coordinate([1], 180_000);
    expect(first.status, explain(first)).toBe(0);
    expect(first.stdout).toContain(JSON.stringify(ahead));
    expect(p.git("ls-tree", "--name-only", "main")).not.toContain("later.txt");

    // init set the upstream: a plain pull and push reach the forge.
    // The run closed issue 1 in its file: a change of the working tree, set aside for the pull.
    git("pull", "--quiet", "--rebase", "--autostash");
    git("push", "--quiet");
    const second = await p.coordinate([2], 180_000);
    expect(second.status, explain(second)).toBe(0);
    expect(second.stdout).not.toContain("ahead of the forge's");
    expect(p.git("ls-tree", "--name-only", "main").split("\n")).toEqual(expect.arrayContaining(["later.txt", "one.txt", "two.txt"]));
  }, 600_000);
});
