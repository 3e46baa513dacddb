import { execFileSync } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { BASE_IMAGE, testDocker } from "../support/docker.ts";
import { makeFixtureRepo, type FixtureRepo } from "../support/fixture-repo.ts";
import { startRemoteEngine, type RemoteEngine } from "../support/remote-engines.ts";
import { isEvent, startCoordinator } from "../support/coordinate-run.ts";

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
      // Each waits for a message, then commits a file of its own.
      ...Object.fromEntries([13, 14, 15, 16, 17, 18].map((n) => [`.cspace/issues/${String(n)}.md`, issue(`Add file ${String(n)}`, `cspace-script: wait-message\ncspace-script: commit file-${String(n)}.txt ${String(n)}`)])),
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

/** Tells a waiting scripted agent to go on (`cspace send`, through the coordinator's relay for a remote one). */
async function send(instance: string): Promise<void> {
  const sent = await runCliAsync(["--cwd", repo.dir, "send", instance, "go on"], { env: repo.env });
  if (sent.status !== 0) throw new Error(`cspace send ${instance}: exit ${String(sent.status)}\n${sent.stderr}`);
}

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

  // The host listed first gets the third issue too (placement beyond the slots takes the first listed among equals), so
  // the two orders move an issue both ways: from this machine to the remote host, and back.
  it.each([
    { order: "local first", issues: ["13", "14", "15"], first: "local" },
    { order: "the remote host first", issues: ["16", "17", "18"], first: "big" },
  ])("runs no more agents on a host than its slots, and moves an issue held by its full host to the one that frees a slot ($order)", async ({ issues, first: listedFirst }) => {
    // One slot per host, three at once for the run: the three issues are warmed at once, so one host gets two of them.
    const big = { name: "big", docker: remote.endpoint, slots: 1, ssh: { identityFile: remote.identityFile, knownHosts: remote.knownHostsFile, socket: remote.socketPath } };
    const local = { name: "local", slots: 1 };
    await writeFile(path.join(repo.dir, ".cspace.local.json"), JSON.stringify({ workers: { hosts: listedFirst === "local" ? [local, big] : [big, local] } }));
    // What earlier runs left running would count against the slots when placing: each order starts from empty hosts.
    const down = await runCliAsync(["--cwd", repo.dir, "down", "--all"], { env: repo.env });
    expect(down.status, down.stderr).toBe(0);
    const numbers = issues.map(Number);
    const child = startCoordinator({ repo }, [...issues, "--max-parallel", "3"]);
    const hostIn = (line: { readonly event?: unknown }): string | undefined => (line.event as { host?: string } | undefined)?.host;
    try {
      const warmed = await Promise.all(numbers.map((n) => child.waitFor(isEvent("Warmed", n))));
      const hostOf = new Map(warmed.map((line) => [line.event?.issue ?? 0, hostIn(line)]));
      expect(new Set(hostOf.values())).toEqual(new Set(["local", "big"]));
      // Each agent waits for a message: the two launched hold their hosts' one slot each until told to go on.
      const first = await child.waitFor(isEvent("Launched"));
      const firstHost = hostOf.get(first.event?.issue ?? 0);
      const second = await child.waitFor((line) => isEvent("Launched")(line) && hostOf.get(line.event?.issue ?? 0) !== firstHost);
      const waiting = numbers.find((n) => n !== first.event?.issue && n !== second.event?.issue) ?? 0;
      const full = hostOf.get(waiting) ?? "";
      expect(full).toBe(listedFirst);
      const status = await runCliAsync(["--cwd", repo.dir, "status", "--json"], { env: repo.env });
      const rows = (JSON.parse(status.stdout) as { report: { rows: { issue: number; status: string; reason: string; host: string | null }[] } }).report.rows;
      expect(rows.find((row) => row.issue === waiting)).toMatchObject({ status: "ready", host: full, reason: expect.stringContaining(`waits for a slot on ${full} (its 1 taken)`) as string });
      // The agent on the other host finishes: its slot is free while the waiting issue's own host is still full, so
      // the waiting issue is made again there and starts at once, though the agent on its first host still works.
      const onFull = [first, second].find((line) => hostOf.get(line.event?.issue ?? 0) === full)?.event?.issue ?? 0;
      const onOther = [first, second].find((line) => hostOf.get(line.event?.issue ?? 0) !== full)?.event?.issue ?? 0;
      const other = hostOf.get(onOther) ?? "";
      await send(`issue-${String(onOther)}`);
      await child.waitFor(isEvent("Reported", onOther));
      await child.waitFor((line) => isEvent("Warmed", waiting)(line) && hostIn(line) === other);
      await child.waitFor(isEvent("Launched", waiting));
      expect(child.lines.filter(isEvent("Reported", onFull))).toEqual([]);
      // It runs in one place only: its container on the full host is gone.
      const id = projectId(repo.projectName, repo.dir);
      const containersOf = async (engine: Docker): Promise<string[]> =>
        (await engine.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`, `${LABELS.instance}=issue-${String(waiting)}`] } })).map((c) => c.Labels[LABELS.host] ?? "");
      expect([...(await containersOf(docker)), ...(await containersOf(there))]).toEqual([other]);
      await send(`issue-${String(waiting)}`);
      await send(`issue-${String(onFull)}`);
      const exit = await child.exited;
      expect(exit.status, exit.stderr.slice(-4000)).toBe(0);
      // Agents at work on each host, launch to report, in the order the run recorded them, each where it was made last.
      const hostNow = new Map<number, string>();
      const running = new Map<string, number>();
      const most = new Map<string, number>();
      for (const line of child.lines) {
        const type = line.kind === "event" ? line.event?.type : undefined;
        const issue = line.event?.issue ?? 0;
        if (type === "Warmed") hostNow.set(issue, hostIn(line) ?? "");
        const host = type === "Launched" || type === "Reported" ? hostNow.get(issue) : undefined;
        if (host === undefined) continue;
        running.set(host, (running.get(host) ?? 0) + (type === "Launched" ? 1 : -1));
        most.set(host, Math.max(most.get(host) ?? 0, running.get(host) ?? 0));
      }
      expect(Object.fromEntries(most)).toEqual({ local: 1, big: 1 });
      expect(child.lines.filter(isEvent("Launched", waiting))).toHaveLength(1);
      // `cspace report --json` says where each ran.
      const report = await runCliAsync(["--cwd", repo.dir, "report", "--json"], { env: repo.env });
      const reported = (JSON.parse(report.stdout) as { rows: { issue: number; host: string | null; status: string }[] }).rows;
      expect(reported.map((row) => [row.issue, row.host, row.status]).sort()).toEqual(numbers.map((n) => [n, n === waiting ? other : hostOf.get(n), "merged"]));
      const git = (...args: string[]): string => execFileSync("git", ["--git-dir", forge, ...args], { encoding: "utf8" }).trim();
      expect(git("ls-tree", "--name-only", "main").split("\n")).toEqual(expect.arrayContaining(numbers.map((n) => `file-${String(n)}.txt`)));
    } finally {
      await child.kill9();
    }
  }, 600_000);
});
