import { execFile, execFileSync, spawnSync } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, describe, expect, inject, it } from "vitest";
import { tokenAccess } from "../../src/adapters/git/remote/github-remote.ts";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { BASE_IMAGE, testDocker } from "../support/docker.ts";
import { makeFixtureRepo } from "../support/fixture-repo.ts";
import { simulatorSeed } from "../support/github-simulator/seed.ts";
import { startGithubSimulator } from "../support/github-simulator/server.ts";

/**
 * `cspace coordinate` end to end on the real engine against the GitHub
 * simulator: the REST API for issues and pull requests, git's smart HTTP for
 * the host's pushes (the token handed to each git child in its environment),
 * scripted agents following their issues' instruction lines. Judged by the
 * simulator's bare repository and records, never by log text.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("cspace coordinate on GitHub (the simulator) with scripted agents", () => {
  it("takes 10, 11 and 12 (blocked by 10) to three squash commits on the simulator's main, in dependency order, never giving a container the token", async () => {
    const token = `ghp_coordinate${runId.replace(/[^A-Za-z0-9]/g, "")}secret`;
    const simulator = await startGithubSimulator({ repo: "octo/widgets", token });
    cleanups.push(() => simulator.close());
    const repo = await makeFixtureRepo({
      projectName: `co-gh-${runId}`.slice(0, 60),
      devcontainer: { image: BASE_IMAGE },
      config: { agent: { preset: "scripted" }, forge: { type: "github", repo: simulator.repo, apiUrl: simulator.url }, coordinator: { maxParallel: 3 } },
    });
    const id = projectId(repo.projectName, repo.dir);
    cleanups.push(async () => {
      const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } });
      await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
      await repo.remove();
    });

    // The simulator's repository is the user's checkout, pushed over its smart HTTP with the token in git's environment.
    const access = tokenAccess(token);
    // Asynchronously: the simulator answering it runs in this process.
    await promisify(execFile)("git", ["push", "--quiet", simulator.gitUrl, "main:refs/heads/main"], { cwd: repo.dir, env: { ...process.env, ...access.env } });
    const git = (...args: string[]): string => execFileSync("git", ["--git-dir", simulator.world.git.dir, ...args], { encoding: "utf8" }).trim();
    expect(git("rev-parse", "main")).toBe(repo.head);
    await simulatorSeed(simulator).issues([
      { number: 10, title: "Add the greeting", body: "cspace-script: commit greeting.txt hello\n" },
      { number: 11, title: "Add the farewell", body: "cspace-script: commit farewell.txt goodbye\n" },
      { number: 12, title: "Greet by name", body: "blocked-by: #10\n\ncspace-script: commit name.txt world\n" },
    ]);
    simulator.resetRecords();

    // Every container the run makes, inspected while it lives: none may carry the token in any form.
    const inspected = new Map<string, string>();
    const stop = new AbortController();
    const watch = (async () => {
      while (!stop.signal.aborted) {
        const live = await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } });
        for (const c of live) {
          const info = await docker.getContainer(c.Id).inspect().catch(() => null);
          if (info === null) continue;
          // The processes cspace ran in it, too: what each exec was given.
          const execs = await Promise.all((info.ExecIDs ?? []).map((exec) => docker.getExec(exec).inspect().then((e) => e.ProcessConfig, () => null)));
          const seen = JSON.stringify({ env: info.Config.Env, cmd: info.Config.Cmd, entrypoint: info.Config.Entrypoint, labels: info.Config.Labels, args: info.Args, execs });
          inspected.set(c.Id, `${inspected.get(c.Id) ?? ""}${seen}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();

    const run = await runCliAsync(["--cwd", repo.dir, "coordinate", "10", "11", "12", "--json"], { env: { ...repo.env, GH_TOKEN: token } }).finally(() => {
      stop.abort();
    });
    await watch;
    expect(run.stderr).not.toMatch(/"kind":"fatal"/);
    expect(run.status, run.stderr.slice(-4000)).toBe(0);
    for (const secret of access.secrets) {
      expect(run.stdout).not.toContain(secret);
      expect(run.stderr).not.toContain(secret);
    }

    // Three squash commits on main above the seeded one, 10 before 12, a straight line.
    const subjects = git("log", "--format=%s", `${repo.head}..main`).split("\n").reverse();
    expect(subjects).toHaveLength(3);
    const at = (title: string): number => subjects.findIndex((s) => s.startsWith(title));
    expect(at("Add the greeting")).toBeGreaterThanOrEqual(0);
    expect(at("Add the farewell")).toBeGreaterThanOrEqual(0);
    expect(at("Greet by name")).toBeGreaterThan(at("Add the greeting"));
    expect(git("rev-list", "--merges", `${repo.head}..main`)).toBe("");
    expect(git("ls-tree", "--name-only", "main").split("\n")).toEqual(expect.arrayContaining(["greeting.txt", "farewell.txt", "name.txt"]));
    expect(git("show", "main:name.txt")).toBe("world");
    // No issue branch is left on the simulator.
    expect(git("for-each-ref", "--format=%(refname:short)", "refs/heads/")).toBe("main");

    // The pull requests are merged (their merge commits on main) and the issues closed as completed.
    const pulls = [...simulator.world.pulls.values()];
    expect(pulls.map((pr) => [pr.head, pr.merged]).sort()).toEqual([["issue-10", true], ["issue-11", true], ["issue-12", true]]);
    const onMain = git("rev-list", "main").split("\n");
    for (const pr of pulls) expect(onMain).toContain(pr.mergeSha);
    for (const n of [10, 11, 12]) expect(simulator.world.issues.get(n)).toMatchObject({ state: "closed", stateReason: "completed" });

    // The host pushed each branch over smart HTTP and merged each pull request once, every request kept to GitHub's description.
    expect(simulator.gitRequests.filter((r) => r.method === "POST" && r.service === "git-receive-pack" && r.status === 200).length).toBeGreaterThanOrEqual(3);
    expect(simulator.requests.filter((r) => r.operationId === "pulls/merge" && r.status === 200)).toHaveLength(3);
    simulator.assertNoViolations();

    expect(inspected.size).toBeGreaterThan(0);
    for (const [container, seen] of inspected) {
      for (const secret of access.secrets) expect(seen, `container ${container}`).not.toContain(secret);
    }
    // Nor is it written anywhere in cspace's data: the store, the checkouts the containers mount, the scratch directories.
    for (const secret of access.secrets) expect(spawnSync("grep", ["-rlsF", secret, repo.dataDir, repo.dir], { encoding: "utf8" }).stdout).toBe("");
  }, 600_000);
});
