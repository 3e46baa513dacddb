import { rename } from "node:fs/promises";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { checkoutVolumeName, mirrorVolumeName } from "../../src/core/workspaces/transport.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { agentStarts, isEvent, mergedOnce, startCoordinator, useForgeProjects, type ForgeProject, type ProgressLine } from "../support/coordinate-run.ts";
import { testDocker } from "../support/docker.ts";
import { startRemoteEngine, type RemoteEngine } from "../support/remote-engines.ts";

/**
 * `cspace coordinate` with workers on three engines: two remote ones over
 * SSH (test/support/remote-engines.ts, each in a network namespace of its
 * own) and the local one, and the faults a remote host brings: its sshd
 * killed while the coordinator is killed with -9, and a host lost for good.
 * Judged by the forge's history (each issue merged once), by where each
 * agent started (the events each worker's mirror copied here), and by what
 * `down --all` leaves on each engine: nothing.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const project = useForgeProjects(runId, docker);
let engineA: RemoteEngine;
let engineB: RemoteEngine;

beforeAll(async () => {
  [engineA, engineB] = await Promise.all([startRemoteEngine("faulta"), startRemoteEngine("faultb")]);
}, 300_000);

afterAll(async () => {
  const made = { engineA, engineB } as { engineA?: RemoteEngine; engineB?: RemoteEngine };
  await Promise.all([made.engineA?.stop(), made.engineB?.stop()]);
});

function hostOf(engine: RemoteEngine, name: string) {
  return { name, docker: engine.endpoint, slots: 1, ssh: { identityFile: engine.identityFile, knownHosts: engine.knownHostsFile, socket: engine.socketPath } };
}

/** The remote hosts first: each of their one slots is taken before the local host's two. */
const spreadOverThree = () => ({ workers: { hosts: [hostOf(engineA, "a"), hostOf(engineB, "b"), { name: "local", slots: 2 }], lostAfterSeconds: 10 } });

/** The issues whose workers run on this engine now, by their containers' labels. */
async function issuesOn(engine: RemoteEngine | "local", made: ForgeProject): Promise<string[]> {
  const client = engine === "local" ? docker : new Docker({ socketPath: engine.socketPath });
  const id = projectId(made.repo.projectName, made.repo.dir);
  const found = await client.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } });
  return found.map((c) => c.Labels[LABELS.instance] ?? "").sort();
}

async function runToEnd(made: ForgeProject, args: readonly string[]): Promise<void> {
  const run = startCoordinator(made, args);
  const stuck = setTimeout(() => void run.kill9(), 300_000);
  const { status, signal, stderr } = await run.exited.finally(() => { clearTimeout(stuck); });
  const seen = run.lines.map((line) => JSON.stringify(line).slice(0, 300)).join("\n");
  expect(status, `${String(signal)}\n${seen}\n${stderr.slice(-4000)}`).toBe(0);
}

describe("coordinate over three engines, two of them remote, with faults", () => {
  it("survives a remote host's sshd killed while the coordinator is killed with -9: --resume merges each issue once, no agent started twice", async () => {
    const made = await project(
      "co-remote-sshd",
      [
        { number: 10, title: "Add the greeting", sleepSeconds: 8, path: "greeting.txt", text: "hello" },
        { number: 11, title: "Add the farewell", sleepSeconds: 8, path: "farewell.txt", text: "goodbye" },
        { number: 12, title: "Add the name", sleepSeconds: 8, path: "name.txt", text: "world" },
        { number: 13, title: "Greet by name", blockedBy: [10], path: "both.txt", text: "hello world" },
      ],
      spreadOverThree(),
    );
    const first = startCoordinator(made, ["10", "11", "12", "13"]);
    for (let launched = 0; launched < 3; launched++) await first.waitFor((line) => isEvent("Launched")(line) && first.lines.filter(isEvent("Launched")).length > launched);
    const [onA, onB] = await Promise.all([issuesOn(engineA, made), issuesOn(engineB, made)]);
    expect(onA).toHaveLength(1);
    expect(onB).toHaveLength(1);
    // The agents are at work: A's sshd dies (its relay and mirror connections with it), then the coordinator.
    await engineA.killSshd();
    await first.kill9();
    await engineA.startSshd();

    await runToEnd(made, ["--resume"]);
    expect(await mergedOnce(made)).toEqual([]);
    for (const n of [10, 11, 12, 13]) expect(await agentStarts(made.paths(`issue-${String(n)}`)), `issue-${String(n)}`).toBe(1);

    // down --all leaves nothing of the project on any of the three engines: workers, mirror keepers, mirrors, checkouts.
    const down = await runCliAsync(["--cwd", made.repo.dir, "down", "--all"], { env: made.repo.env });
    expect(down.status, down.stderr).toBe(0);
    const id = projectId(made.repo.projectName, made.repo.dir);
    for (const engine of [engineA, engineB]) {
      const there = new Docker({ socketPath: engine.socketPath });
      expect(await there.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } })).toEqual([]);
      const volumes = (await there.listVolumes()).Volumes.map((v) => v.Name);
      expect(volumes.filter((name) => name === mirrorVolumeName(id) || name.startsWith(checkoutVolumeName(id, "")))).toEqual([]);
    }
    expect(await issuesOn("local", made)).toEqual([]);
  }, 600_000);

  it("relaunches the worker of a host lost for good on a host that answers, as an attempt, and merges everything", async () => {
    const made = await project(
      "co-remote-lost",
      [
        // Long enough that the lost host's agent is still at work when its link goes down (its work is lost with it).
        { number: 20, title: "Add the greeting", sleepSeconds: 15, path: "greeting.txt", text: "hello" },
        { number: 21, title: "Add the farewell", sleepSeconds: 15, path: "farewell.txt", text: "goodbye" },
        { number: 22, title: "Add the name", sleepSeconds: 15, path: "name.txt", text: "world" },
      ],
      spreadOverThree(),
    );
    const run = startCoordinator(made, ["20", "21", "22"]);
    for (let launched = 0; launched < 3; launched++) await run.waitFor((line) => isEvent("Launched")(line) && run.lines.filter(isEvent("Launched")).length > launched);
    const [lostIssue] = await issuesOn(engineB, made);
    expect(lostIssue).toMatch(/^issue-2[012]$/);
    const number = Number(lostIssue?.slice("issue-".length));
    // B's link goes down and stays down: nothing closes, nothing answers.
    await engineB.setLinkUp(false);
    try {
      const lost = await run.waitFor(isEvent("WorkerLost", number), 240_000);
      expect(lost.event?.issue).toBe(number);
      const { status, stderr } = await run.exited;
      const seen = run.lines.map((line) => JSON.stringify(line).slice(0, 400)).join("\n");
      expect(status, `${seen.slice(-6000)}\n${stderr.slice(-3000)}`).toBe(0);
      expect(await mergedOnce(made)).toEqual([]);
      // Its second attempt ran where a host answered: this machine (B's slot is gone, A's is taken or freed).
      const relaunched = [...(await issuesOn("local", made)), ...(await issuesOn(engineA, made))];
      expect(relaunched).toContain(lostIssue);
      expect(run.lines.filter(isEvent("Launched", number))).toHaveLength(2);
    } finally {
      await engineB.setLinkUp(true);
    }
  }, 600_000);

  it("collects a reported branch across a killed and restarted sshd: the push waits for the host, and nothing is relaunched", async () => {
    const made = await project("co-remote-sshd-push", [{ number: 24, title: "Add the shape", sleepSeconds: 5, path: "shape.txt", text: "round" }], {
      workers: { hosts: [hostOf(engineA, "a"), { name: "local", slots: 1 }], lostAfterSeconds: 240 },
    });
    const run = startCoordinator(made, ["24"]);
    const away = `${made.remote}.away`;
    try {
      await run.waitFor(isEvent("Launched", 24));
      expect(await issuesOn(engineA, made)).toEqual(["issue-24"]);
      // The agent reports; the forge, moved away, refuses the first push, so the next one comes after sshd is gone.
      await rename(made.remote, away);
      await run.waitFor((line) => isEvent("ActionFailed", 24)(line) && (line.event as { action?: string } | undefined)?.action === "Push");
      await engineA.killSshd();
      await rename(away, made.remote);
      const waiting = await run.waitFor((line) => line.kind === "notice" && (line.text ?? "").startsWith("issue-24's branch issue-24 waits for its host to answer"), 120_000);
      expect(waiting.text).toMatch(/\(host a does not answer: .+\); it is given up as lost after 240 s of silence \(workers\.lostAfterSeconds\)$/);
      // The push is held while A is silent: nothing reaches the forge.
      const pushed = made.git("for-each-ref", "--format=%(refname)", "refs/heads/issue-24") === "" ? "" : made.git("ls-tree", "--name-only", "issue-24", "--", "shape.txt");
      expect(pushed).toBe("");
      // The worker's relay went down with sshd: said once, however many times it tries again meanwhile.
      const relayDown = (line: ProgressLine): boolean => line.kind === "notice" && (line.text ?? "").startsWith("issue-24: the message relay to its container on host a is down (");
      await run.waitFor(relayDown, 120_000);
      await engineA.startSshd();
      await run.waitFor((line) => line.kind === "notice" && line.text === "host a answers again: issue-24's branch issue-24 is collected", 120_000);
      await run.waitFor((line) => line.kind === "notice" && line.text === "issue-24: the message relay to its container on host a is back", 120_000);
      expect(run.lines.filter(relayDown)).toHaveLength(1);
      const { status, stderr } = await run.exited;
      const seen = run.lines.map((line) => JSON.stringify(line).slice(0, 400)).join("\n");
      expect(status, `${seen.slice(-6000)}\n${stderr.slice(-3000)}`).toBe(0);
      // The first attempt's work, pushed once A answered: merged once, from the one launch, with nothing recorded lost.
      expect(await mergedOnce(made)).toEqual([]);
      expect(made.git("show", "main:shape.txt")).toBe("round");
      expect(run.lines.filter(isEvent("Launched", 24))).toHaveLength(1);
      expect(run.lines.filter(isEvent("ReportedWorkLost", 24))).toEqual([]);
    } finally {
      await rename(away, made.remote).catch(() => undefined);
      await engineA.startSshd().catch(() => undefined);
      await run.kill9();
    }
  }, 600_000);

  it("relaunches an issue whose reported work was lost with its host before it was collected, and merges it", async () => {
    // B is listed first and taken first; its agent works a while, so the forge can be made to refuse the first push.
    const made = await project("co-remote-work-lost", [{ number: 23, title: "Add the colour", sleepSeconds: 5, path: "colour.txt", text: "blue" }], {
      workers: { hosts: [hostOf(engineB, "b"), { name: "local", slots: 1 }], lostAfterSeconds: 10 },
    });
    const run = startCoordinator(made, ["23"]);
    const away = `${made.remote}.away`;
    try {
      await run.waitFor(isEvent("Launched", 23));
      expect(await issuesOn(engineB, made)).toEqual(["issue-23"]);
      // The agent reports; the push collects its branch from B, and the forge, moved away, refuses it: the push is tried again.
      await rename(made.remote, away);
      await run.waitFor((line) => isEvent("ActionFailed", 23)(line) && (line.event as { action?: string } | undefined)?.action === "Push");
      // Before the next try, B's link goes down for good: the reported commits exist only there.
      await engineB.setLinkUp(false);
      await rename(away, made.remote);
      const lost = await run.waitFor(isEvent("ReportedWorkLost", 23), 240_000);
      expect((lost.event as { reason?: string } | undefined)?.reason).toMatch(/^host b has not answered for \d+ s/);
      const { status, stderr } = await run.exited;
      const seen = run.lines.map((line) => JSON.stringify(line).slice(0, 400)).join("\n");
      expect(status, `${seen.slice(-6000)}\n${stderr.slice(-3000)}`).toBe(0);
      // Made again here, its second attempt's work merged once: the lost attempt counted, nothing pushed twice.
      expect(await mergedOnce(made)).toEqual([]);
      expect(made.git("show", "main:colour.txt")).toBe("blue");
      expect(run.lines.filter(isEvent("Launched", 23))).toHaveLength(2);
      expect(await issuesOn("local", made)).toEqual(["issue-23"]);
    } finally {
      await rename(away, made.remote).catch(() => undefined);
      await engineB.setLinkUp(true);
      await run.kill9();
    }
  }, 600_000);
});
