import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { instancePaths } from "../../src/services/workers/instance-files.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { agentStarted, isEvent, startCoordinator } from "../support/coordinate-run.ts";
import { BASE_IMAGE, testDocker } from "../support/docker.ts";
import { startFakeKube, type FakeKube } from "../support/fake-kube/server.ts";
import { makeFixtureRepo, type FixtureRepo } from "../support/fixture-repo.ts";

/**
 * `cspace coordinate` with every worker on a Kubernetes host: the project's
 * own API server (test/support/fake-kube), whose pods are processes on this
 * machine in mount namespaces of their own running this machine's git and
 * node. Each worker's checkout is cloned from the host's mirror claim, its
 * messages go through the relay and its events and reports through the
 * instance mirror, both over pod execs, and its branch comes back through a
 * collect; #11 is stacked on #10's collected branch. Every command runs
 * with DOCKER_HOST naming no engine: with no host of workers.hosts on this
 * machine, a run needs no engine here (the preflight leaves the image to
 * where each worker starts). In the docker lane for its cleanup check only:
 * nothing of the project on this machine's engine either. Judged by the
 * forge's history and records.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
let dir = "";
let kube: FakeKube;
const repos: FixtureRepo[] = [];

/** The repository's environment with DOCKER_HOST naming no engine: nothing of a run on a cluster may need one here. */
function noEngine(repo: FixtureRepo): NodeJS.ProcessEnv {
  return { ...repo.env, DOCKER_HOST: `unix://${dir}/no-engine.sock` };
}

function issue(title: string, body: string): string {
  return `---\ntitle: ${title}\n---\n${body}\n`;
}

/** A local-forge project whose only host is the fake cluster, with these issues; its bare forge beside it. */
async function project(name: string, issues: Readonly<Record<string, string>>): Promise<{ readonly repo: FixtureRepo; readonly forge: string }> {
  const repo = await makeFixtureRepo({
    projectName: `${name}-${runId}`.slice(0, 60),
    // The fake's pods run this machine's programs: the container user is a uid, not the image's `node`.
    devcontainer: { image: BASE_IMAGE, containerUser: "1000" },
    config: {
      agent: { preset: "scripted" },
      forge: { type: "local", remote: "../remote.git" },
      coordinator: { maxParallel: 2 },
      workers: { hosts: [{ name: "k8s", kubernetes: { context: kube.context, namespace: kube.namespace, kubeconfig: kube.kubeconfig }, slots: 2 }] },
    },
    files: Object.fromEntries(Object.entries(issues).map(([file, text]) => [`.cspace/issues/${file}`, text])),
  });
  repos.push(repo);
  const forge = path.join(path.dirname(repo.dir), "remote.git");
  execFileSync("git", ["clone", "--quiet", "--bare", repo.dir, forge]);
  return { repo, forge };
}

beforeAll(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "cspace-coord-k8s-")));
  kube = await startFakeKube({ dir });
}, 120_000);

afterAll(async () => {
  for (const repo of repos) {
    // Nothing of the project may be on this machine's engine either (the runs were told of none).
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${projectId(repo.projectName, repo.dir)}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    await repo.remove();
  }
  const made = { kube } as { kube?: FakeKube };
  await made.kube?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe("coordinate with its workers on a Kubernetes host (the project's API server)", () => {
  it("merges a chain worked on in pods, then down --all leaves no pod and no claim", async () => {
    const { repo, forge } = await project("co-k8s", {
      "10.md": issue("Add the greeting", "cspace-script: commit greeting.txt hello"),
      "11.md": issue("Greet by name", "blocked-by: #10\n\ncspace-script: commit name.txt world"),
    });
    const git = (...args: string[]): string => execFileSync("git", ["--git-dir", forge, ...args], { encoding: "utf8" }).trim();
    const run = await runCliAsync(["--cwd", repo.dir, "coordinate", "10", "11", "--json"], { env: noEngine(repo), timeoutMs: 600_000 });
    expect(run.stderr).not.toMatch(/"kind":"fatal"/);
    expect(run.status, run.stderr.slice(-4000)).toBe(0);

    const subjects = git("log", "--format=%s", `${repo.head}..main`).split("\n").reverse();
    expect(subjects).toHaveLength(2);
    expect(subjects[0]).toMatch(/^Add the greeting/);
    expect(subjects[1]).toMatch(/^Greet by name/);
    expect(git("show", "main:greeting.txt")).toBe("hello");
    expect(git("show", "main:name.txt")).toBe("world");
    const records = JSON.parse(await readFile(path.join(forge, "cspace", "pull-requests.json"), "utf8")) as { pullRequests: { head: string; state: string }[] };
    expect(records.pullRequests.map((pr) => [pr.head, pr.state]).sort()).toEqual([["issue-10", "merged"], ["issue-11", "merged"]]);

    // Both ran in pods on the cluster (the only host), none on this machine's engine.
    const pods = [...kube.pods.values()].map((pod) => pod.manifest.metadata?.labels?.[LABELS.instance]).sort();
    expect(pods).toEqual(["issue-10", "issue-11"]);
    const id = projectId(repo.projectName, repo.dir);
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } })).toEqual([]);

    // The agent's events, read from its pod (the instance mirror over an exec, into a copy of the command's own).
    const logs = await runCliAsync(["--cwd", repo.dir, "logs", "issue-10"], { env: noEngine(repo), timeoutMs: 120_000 });
    expect(logs.status, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/agent +commit +[0-9a-f]{40} greeting\.txt/);
    expect(logs.stdout).toMatch(/supervisor report-delivered +issue-10-/);

    const down = await runCliAsync(["--cwd", repo.dir, "down", "--all"], { env: noEngine(repo), timeoutMs: 120_000 });
    expect(down.status, `${down.stdout}\n${down.stderr}`).toBe(0);
    expect({ pods: [...kube.pods.keys()], claims: [...kube.claims.keys()] }).toEqual({ pods: [], claims: [] });
    expect(kube.violations).toEqual([]);
  }, 600_000);

  it("notices a worker pod that died, counts it as an attempt, makes the pod anew and merges the issue once", async () => {
    const { repo, forge } = await project("co-k8s-lost", { "10.md": issue("Add the greeting", "cspace-script: sleep 15\ncspace-script: commit greeting.txt hello") });
    const run = startCoordinator({ repo, env: noEngine(repo) }, ["10"]);
    await run.waitFor(isEvent("Launched", 10));
    // Killed once its agent runs (its started event came through the instance mirror): as an OOM kill or an eviction would.
    await agentStarted(instancePaths(repo.runDir, "issue-10"));
    const pod = [...kube.pods.values()].find((p) => p.manifest.metadata?.labels?.[LABELS.instance] === "issue-10");
    if (pod === undefined) throw new Error("issue-10 has no pod");
    const first = pod.manifest.metadata?.uid;
    pod.killMain();

    const { status, stderr } = await run.exited;
    expect(status, stderr.slice(-4000)).toBe(0);
    expect(run.lines.filter(isEvent("WorkerLost")).map((line) => line.event?.issue)).toEqual([10]);
    // The pod that ended was not started again: another one of the same name was made.
    const now = [...kube.pods.values()].filter((p) => p.manifest.metadata?.labels?.[LABELS.instance] === "issue-10");
    expect(now).toHaveLength(1);
    expect(now[0]?.manifest.metadata?.uid).not.toBe(first);
    const git = (...args: string[]): string => execFileSync("git", ["--git-dir", forge, ...args], { encoding: "utf8" }).trim();
    expect(git("log", "--format=%s", `${repo.head}..main`).split("\n")).toHaveLength(1);
    expect(git("show", "main:greeting.txt")).toBe("hello");

    const down = await runCliAsync(["--cwd", repo.dir, "down", "--all"], { env: noEngine(repo), timeoutMs: 120_000 });
    expect(down.status, `${down.stdout}\n${down.stderr}`).toBe(0);
    expect({ pods: [...kube.pods.keys()], claims: [...kube.claims.keys()] }).toEqual({ pods: [], claims: [] });
    expect(kube.violations).toEqual([]);
  }, 600_000);
});
