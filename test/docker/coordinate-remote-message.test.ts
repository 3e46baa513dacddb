import { readFile } from "node:fs/promises";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import type { InstancePaths } from "../../src/services/workers/instance-files.ts";
import { runCliAsync } from "../support/cli-async.ts";
import type { CliResult } from "../support/cli.ts";
import { isEvent, mergedOnce, startCoordinator, until, useForgeProjects, type ForgeProject } from "../support/coordinate-run.ts";
import { testDocker } from "../support/docker.ts";
import { startRemoteEngine, type RemoteEngine } from "../support/remote-engines.ts";

/**
 * A message to a remote worker sent while its host's sshd is down
 * (issue #16: "sshd killed mid-message"): `cspace send` reaches the
 * coordinator's relay endpoint on the host's w.sock, whose exec over SSH died
 * with sshd and comes back, after its backoff, once sshd does. What a user
 * needs either way: a send that said it was queued is delivered exactly once,
 * and one that failed said so clearly and is never delivered behind its back,
 * so resending it is safe. Judged by the worker's own events (mirrored here)
 * and the forge's history.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const project = useForgeProjects(runId, docker);
let engine: RemoteEngine;

beforeAll(async () => {
  engine = await startRemoteEngine("midmsg");
}, 300_000);

afterAll(async () => {
  const made = { engine } as { engine?: RemoteEngine };
  await made.engine?.stop();
});

function hostOf(remote: RemoteEngine, name: string) {
  return { name, docker: remote.endpoint, slots: 1, ssh: { identityFile: remote.identityFile, knownHosts: remote.knownHostsFile, socket: remote.socketPath } };
}

/** The issues whose workers run on the remote engine, by their containers' labels. */
async function issuesOn(remote: RemoteEngine, made: ForgeProject): Promise<string[]> {
  const id = projectId(made.repo.projectName, made.repo.dir);
  const found = await new Docker({ socketPath: remote.socketPath }).listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } });
  return found.map((c) => c.Labels[LABELS.instance] ?? "").sort();
}

/** The agent state a supervisor's state.json records ("" while the file is missing or half-written). */
function agentStateIn(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && "state" in parsed && typeof parsed.state === "string" ? parsed.state : "";
  } catch {
    return "";
  }
}

/** How many times the supervisor handed the agent a message with this text (its `message`/`delivered` events). */
async function deliveries(paths: InstancePaths, text: string): Promise<number> {
  let count = 0;
  for (const file of [paths.eventsRotated, paths.events]) {
    for (const line of (await readFile(file, "utf8").catch(() => "")).split("\n")) {
      if (line.trim() === "") continue;
      const event = JSON.parse(line) as { source?: string; type?: string; text?: string };
      if (event.source === "message" && event.type === "delivered" && event.text === text) count++;
    }
  }
  return count;
}

describe("coordinate with a remote worker whose host's sshd dies as it is sent a message", () => {
  it("delivers a message sent while sshd is down exactly once, or fails the send clearly and delivers only the resend", async () => {
    const made = await project("co-remote-midmsg", [{ number: 30, title: "Add the answer", waitMessage: true, path: "answer.txt", text: "yes" }], {
      workers: { hosts: [hostOf(engine, "a"), { name: "local", slots: 1 }], lostAfterSeconds: 120 },
    });
    const paths = made.paths("issue-30");
    const send = (text: string): Promise<CliResult> => runCliAsync(["--cwd", made.repo.dir, "send", "issue-30", text], { env: made.repo.env });
    const run = startCoordinator(made, ["30"]);
    let sshdDown = false;
    try {
      await run.waitFor(isEvent("Launched", 30));
      expect(await issuesOn(engine, made)).toEqual(["issue-30"]);
      // The agent runs: wait-message ends its turn at once, so "working" may pass unseen and "idle" is where it waits.
      await until(async () => ["working", "idle"].includes(agentStateIn(await readFile(paths.state, "utf8").catch(() => ""))), "issue-30's agent running");

      // sshd dies (the relay's exec and the mirror's with it) and the send is made as it comes back: the relay endpoint
      // holds it until its next exec, 250 ms doubling after each failed try. That against the send's 5 s decides which
      // way it goes; on this machine the relay is back in time.
      const first = "the first word, sent while sshd is down";
      sshdDown = true;
      await engine.killSshd();
      const sending = send(first);
      await engine.startSshd();
      sshdDown = false;
      const sent = await sending;
      const resends: string[] = [];
      if (sent.status === 0) {
        expect(sent.stdout).toMatch(/^sent to issue-30 \(1 message waiting for the agent\)/);
      } else {
        // It failed, saying so and what to do: the user sends again until one is taken, each a text of its own.
        expect(sent.stderr).toMatch(/the supervisor of instance "issue-30" did not answer send in time/);
        expect(sent.stderr).toMatch(/the message may not have been queued: cspace logs issue-30 shows each message delivered/);
        for (let taken = false; !taken; ) {
          expect(resends.length, "sends refused after sshd came back").toBeLessThan(10);
          const text = `the word again (${String(resends.length + 1)})`;
          resends.push(text);
          taken = (await send(text)).status === 0;
        }
      }

      const { status, stderr } = await run.exited;
      const seen = run.lines.map((line) => JSON.stringify(line).slice(0, 400)).join("\n");
      expect(status, `${seen.slice(-6000)}\n${stderr.slice(-3000)}`).toBe(0);
      // The message taken was delivered once; every send that failed, never (not even late, once the relay was back).
      // The worker's events are the host's copy: its mirror, lost with sshd, was resumed once the relay was back.
      const taken = sent.status === 0 ? first : (resends.at(-1) ?? "");
      const failed = [...(sent.status === 0 ? [] : [first]), ...resends.slice(0, -1)];
      expect(await deliveries(paths, taken), `${taken} (send: exit ${String(sent.status)} ${sent.stderr})`).toBe(1);
      for (const text of failed) expect(await deliveries(paths, text), text).toBe(0);
      expect(await mergedOnce(made)).toEqual([]);
      expect(run.lines.filter(isEvent("Launched", 30))).toHaveLength(1);
      expect(run.lines.filter(isEvent("WorkerLost", 30))).toEqual([]);
    } finally {
      if (sshdDown) await engine.startSshd().catch(() => undefined);
      await run.kill9();
    }
  }, 600_000);
});
