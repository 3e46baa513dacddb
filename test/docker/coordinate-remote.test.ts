import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { BASE_IMAGE, testDocker } from "../support/docker.ts";
import { makeFixtureRepo, type FixtureRepo } from "../support/fixture-repo.ts";
import { startRemoteEngine, type RemoteEngine } from "../support/remote-engines.ts";

/**
 * `cspace coordinate` with its workers spread over the local engine and a
 * remote one reached over SSH (test/support/remote-engines.ts): the local
 * host's one slot takes one issue, the remote host the two others (#12 is
 * stacked on #10's branch, whichever machine that was made on). Nothing of the remote worker is on
 * this machine's filesystem: its checkout comes from the host's mirror, its
 * messages through the relay, its events and reports through the mirror,
 * its branch back through a collect. Judged, as every coordinate scenario,
 * by the forge's git history and records.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
let remote: RemoteEngine;
let there: Docker;
let repo: FixtureRepo;
let forge: string;

function issue(title: string, body: string): string {
  return `---\ntitle: ${title}\n---\n${body}\n`;
}

beforeAll(async () => {
  remote = await startRemoteEngine("coordr");
  there = new Docker({ socketPath: remote.socketPath });
  const big = { name: "big", docker: remote.endpoint, slots: 2, ssh: { identityFile: remote.identityFile, knownHosts: remote.knownHostsFile, socket: remote.socketPath } };
  repo = await makeFixtureRepo({
    projectName: `co-remote-${runId}`.slice(0, 60),
    devcontainer: { image: BASE_IMAGE },
    config: {
      agent: { preset: "scripted" },
      forge: { type: "local", remote: "../remote.git" },
      coordinator: { maxParallel: 3 },
      workers: { hosts: [{ name: "local", slots: 1 }, big] },
    },
    files: {
      ".cspace/issues/10.md": issue("Add the greeting", "cspace-script: commit greeting.txt hello"),
      ".cspace/issues/11.md": issue("Add the farewell", "cspace-script: commit farewell.txt goodbye"),
      ".cspace/issues/12.md": issue("Greet by name", "blocked-by: #10\n\ncspace-script: commit name.txt world"),
    },
  });
  forge = path.join(path.dirname(repo.dir), "remote.git");
  execFileSync("git", ["clone", "--quiet", "--bare", repo.dir, forge]);
}, 300_000);

afterAll(async () => {
  const made = { remote, repo } as { remote?: RemoteEngine; repo?: FixtureRepo };
  if (made.repo !== undefined) {
    const id = projectId(made.repo.projectName, made.repo.dir);
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    await made.repo.remove();
  }
  await made.remote?.stop();
});

describe("coordinate with workers on a remote Docker host over SSH", () => {
  it("merges a chain whose dependent runs on the remote host, stacked on a branch made on this machine", async () => {
    const git = (...args: string[]): string => execFileSync("git", ["--git-dir", forge, ...args], { encoding: "utf8" }).trim();
    const run = await runCliAsync(["--cwd", repo.dir, "coordinate", "10", "11", "12", "--json"], { env: repo.env });
    expect(run.stderr).not.toMatch(/"kind":"fatal"/);
    expect(run.status, run.stderr.slice(-4000)).toBe(0);

    const subjects = git("log", "--format=%s", `${repo.head}..main`).split("\n").reverse();
    expect(subjects).toHaveLength(3);
    const at = (title: string): number => subjects.findIndex((s) => s.startsWith(title));
    expect(at("Greet by name")).toBeGreaterThan(at("Add the greeting"));
    expect(at("Add the farewell")).toBeGreaterThanOrEqual(0);
    expect(git("ls-tree", "--name-only", "main").split("\n")).toEqual(expect.arrayContaining(["greeting.txt", "farewell.txt", "name.txt"]));
    expect(git("show", "main:name.txt")).toBe("world");
    const records = JSON.parse(await readFile(path.join(forge, "cspace", "pull-requests.json"), "utf8")) as { pullRequests: { head: string; state: string }[] };
    expect(records.pullRequests.map((pr) => [pr.head, pr.state]).sort()).toEqual([["issue-10", "merged"], ["issue-11", "merged"], ["issue-12", "merged"]]);

    // Where each ran: the local host's one slot took one of them (the three are warmed at once: whichever came first), the
    // remote host the other two; every issue's work is on main, so each remote worker's branch came back through a collect.
    const id = projectId(repo.projectName, repo.dir);
    const onRemote = (await there.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } })).map((c) => [c.Labels[LABELS.instance], c.Labels[LABELS.host]]);
    const onLocal = (await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } })).map((c) => [c.Labels[LABELS.instance], c.Labels[LABELS.host]]);
    expect(onRemote).toHaveLength(2);
    expect(onLocal).toHaveLength(1);
    expect(onRemote.every(([, host]) => host === "big")).toBe(true);
    expect(onLocal.every(([, host]) => host === "local")).toBe(true);
    expect([...onRemote, ...onLocal].map(([instance]) => instance).sort()).toEqual(["issue-10", "issue-11", "issue-12"]);
  }, 600_000);
});
