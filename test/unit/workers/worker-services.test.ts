import { readFile, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { RequestTimeoutError } from "../../../src/adapters/messaging/errors.ts";
import { ExternalError, UserError } from "../../../src/core/errors.ts";
import type { Launch } from "../../../src/core/messaging/launch.ts";
import { listInstances } from "../../../src/services/instances/list.ts";
import { interruptAgent } from "../../../src/services/workers/interrupt.ts";
import { restartAgent } from "../../../src/services/workers/restart.ts";
import { sendMessage } from "../../../src/services/workers/send.ts";
import { instanceStatus } from "../../../src/services/workers/status.ts";
import { up } from "../../../src/services/workers/up.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";
import { workerProject, type WorkerProject } from "./worker-project.ts";

const tempDir = useTempDirs("workers");

async function started(config: Record<string, unknown> = {}, options: { sessionId?: string | null } = {}): Promise<WorkerProject> {
  const project = await workerProject(await tempDir(), config, options);
  await up({ cwd: project.cwd, env: project.env, instance: "issue-1", prompt: "do the thing", ports: project.ports.overrides });
  return project;
}

async function launchOf(project: WorkerProject): Promise<Launch> {
  return JSON.parse(await readFile(project.paths("issue-1").launch, "utf8")) as Launch;
}

describe("up with fake ports", () => {
  it("warms, writes launch.json and the prompt, and starts one supervisor", async () => {
    const project = await started();
    expect(project.running()).toHaveLength(1);
    expect(await readFile(project.paths("issue-1").prompt, "utf8")).toBe("do the thing");
    expect(await launchOf(project)).toMatchObject({ instance: "issue-1", preset: "scripted", branch: "issue-1", base: "main", resumeSessionId: null, restartReason: null });
  });

  it("refuses a second up while a supervisor answers (exit 2), starting nothing", async () => {
    const project = await started();
    const again = up({ cwd: project.cwd, env: project.env, instance: "issue-1", prompt: "again", ports: project.ports.overrides });
    await expect(again).rejects.toThrow(UserError);
    await expect(again).rejects.toThrow(/already runs a supervisor \(agent scripted, working\)/);
    expect(project.supervisors).toHaveLength(1);
  });

  it("refuses an empty prompt and an unknown preset before any work", async () => {
    const project = await workerProject(await tempDir());
    await expect(up({ cwd: project.cwd, env: project.env, instance: "issue-1", prompt: "  \n", ports: project.ports.overrides })).rejects.toThrow(/the prompt is empty/);
    await expect(up({ cwd: project.cwd, env: project.env, instance: "issue-1", prompt: "x", agent: "nope", ports: project.ports.overrides })).rejects.toThrow(/"nope" is not an agent preset/);
    expect(project.ports.runtime.calls).toEqual([]);
  });
});

describe("send", () => {
  it("queues the message on the supervisor, from the host", async () => {
    const project = await started();
    const result = await sendMessage({ cwd: project.cwd, env: project.env, instance: "issue-1", text: "rebase please" });
    expect(result).toEqual({ instance: "issue-1", queued: true, queueDepth: 1 });
    expect(project.supervisors[0]?.sent).toEqual([{ text: "rebase please", from: "host" }]);
  });

  it("refuses an empty message (exit 2) before looking for the instance", async () => {
    const project = await workerProject(await tempDir());
    await expect(sendMessage({ cwd: project.cwd, env: project.env, instance: "nowhere", text: " \n " })).rejects.toThrow(UserError);
  });

  it("names an unknown instance, a stopped supervisor and the host's missing coordinator (exit 3), with what to do", async () => {
    const project = await started();
    const unknown = sendMessage({ cwd: project.cwd, env: project.env, instance: "issue-9", text: "hi" });
    await expect(unknown).rejects.toThrow(ExternalError);
    await expect(unknown).rejects.toThrow('there is no instance "issue-9" in this project');
    await expect(unknown).rejects.toMatchObject({ hint: expect.stringContaining("cspace up issue-9") as unknown });
    await project.supervisors[0]?.die();
    const stopped = sendMessage({ cwd: project.cwd, env: project.env, instance: "issue-1", text: "hi" });
    await expect(stopped).rejects.toThrow(/no supervisor is running for instance "issue-1"/);
    await expect(stopped).rejects.toMatchObject({ kind: "external", hint: expect.stringContaining("cspace up issue-1") as unknown });
    await expect(sendMessage({ cwd: project.cwd, env: project.env, instance: "_coordinator", text: "hi" })).rejects.toThrow("no coordinator is running for this project");
  });

  it("says a send that timed out may not have been queued and where to look before sending again (exit 3)", async () => {
    const project = await started();
    await project.supervisors[0]?.die();
    // What a relay whose host does not answer looks like from here: w.sock takes the request and no reply comes.
    const socket = project.paths("issue-1").workerSocket;
    await rm(socket, { force: true });
    // It reads what comes (so it sees the client leave) and never answers.
    const silent = createServer((connection) => connection.resume());
    await new Promise<void>((resolve) => silent.listen(socket, resolve));
    try {
      const timedOut = sendMessage({ cwd: project.cwd, env: project.env, instance: "issue-1", text: "hi", timeoutMs: 200 });
      await expect(timedOut).rejects.toThrow(RequestTimeoutError);
      await expect(timedOut).rejects.toThrow('the supervisor of instance "issue-1" did not answer send in time');
      await expect(timedOut).rejects.toMatchObject({ kind: "external", hint: expect.stringMatching(/^the message may not have been queued: cspace logs issue-1 shows each message delivered/) as unknown });
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("says a send whose connection closed after it was taken may have been delivered, not that no supervisor runs (exit 3)", async () => {
    const project = await started();
    await project.supervisors[0]?.die();
    // A peer that takes the request, then goes without a reply: a supervisor that died as it read it, a relay cut.
    const socket = project.paths("issue-1").workerSocket;
    await rm(socket, { force: true });
    const closing = createServer((connection) => connection.once("data", () => connection.end()));
    await new Promise<void>((resolve) => closing.listen(socket, resolve));
    try {
      const closed = sendMessage({ cwd: project.cwd, env: project.env, instance: "issue-1", text: "hi" });
      await expect(closed).rejects.toThrow(`the connection to instance "issue-1"'s supervisor closed before it answered: the message may or may not have been taken`);
      await expect(closed).rejects.toMatchObject({ kind: "external", hint: expect.stringMatching(/^cspace logs issue-1 shows each message delivered to the agent/) as unknown });
    } finally {
      await new Promise((resolve) => closing.close(resolve));
    }
  });
});

describe("status, list and lost agents", () => {
  it("reports lost, with why, when the supervisor is gone while state.json says the agent worked", async () => {
    const project = await started();
    await project.supervisors[0]?.die();
    const status = await instanceStatus({ cwd: project.cwd, env: project.env, instance: "issue-1", ports: project.ports.overrides });
    expect(status).toMatchObject({ live: false, container: "running", agent: { state: "lost", lostBecause: "the supervisor does not answer (agent was working)" } });
    const [listed] = await listInstances({ cwd: project.cwd, env: project.env, ports: project.ports.overrides });
    expect(listed?.agent).toMatchObject({ state: "lost", turns: 2, costUsd: 0.25 });
  });

  it("lists a live agent's state from its answer, and an instance whose container vanished as missing and lost", async () => {
    const project = await started();
    const [live] = await listInstances({ cwd: project.cwd, env: project.env, ports: project.ports.overrides });
    expect(live).toMatchObject({ instance: "issue-1", state: "running", agent: { state: "working", label: "working" } });
    await project.supervisors[0]?.die();
    for (const c of [...project.ports.runtime.containers.values()]) await project.ports.runtime.remove(c.id);
    const [gone] = await listInstances({ cwd: project.cwd, env: project.env, ports: project.ports.overrides });
    expect(gone).toMatchObject({ instance: "issue-1", state: "missing", agent: { state: "lost", lostBecause: "the container is gone (agent was working)" } });
  });

  it("shows the base its agent was launched on (a stacked issue's issue-<N>), not only the branch its container was made from", async () => {
    const project = await started();
    const paths = project.paths("issue-1");
    // The coordinator launches a stacked issue on its dependency's branch in a container warmed from the feature branch.
    const hostLaunch = path.join(paths.hostDir, "launch.json");
    const launch = JSON.parse(await readFile(hostLaunch, "utf8")) as Launch;
    await writeFile(hostLaunch, JSON.stringify({ ...launch, base: "issue-7" }));
    const [listed] = await listInstances({ cwd: project.cwd, env: project.env, ports: project.ports.overrides });
    expect(listed?.base).toBe("issue-7");
  });

  it("shows none for an instance that never ran an agent", async () => {
    const project = await workerProject(await tempDir());
    const { warm } = await import("../../../src/services/warm/warm.ts");
    await warm({ cwd: project.cwd, env: project.env, instances: ["w1"], reset: false, ports: project.ports.overrides });
    const [listed] = await listInstances({ cwd: project.cwd, env: project.env, ports: project.ports.overrides });
    expect(listed?.agent).toMatchObject({ state: "none", label: "none" });
  });
});

describe("interrupt", () => {
  it("stops the running agent, and is a no-op (not an error) once it has exited", async () => {
    const project = await started();
    expect(await interruptAgent({ cwd: project.cwd, env: project.env, instance: "issue-1" })).toMatchObject({ interrupted: true, reportId: "r-1", outcome: "interrupted" });
    expect(await interruptAgent({ cwd: project.cwd, env: project.env, instance: "issue-1" })).toMatchObject({ interrupted: false, note: "the agent is not running (state exited)" });
  });

  it("is exit 3 with no supervisor", async () => {
    const project = await started();
    await project.supervisors[0]?.die();
    await expect(interruptAgent({ cwd: project.cwd, env: project.env, instance: "issue-1" })).rejects.toThrow(ExternalError);
  });
});

describe("restart", () => {
  it("shuts the old supervisor down, waits for its lock, and starts exactly one new one with the original prompt and the reason", async () => {
    const project = await started();
    const result = await restartAgent({ cwd: project.cwd, env: project.env, instance: "issue-1", reason: "stuck on a prompt", ports: project.ports.overrides });
    expect(result).toMatchObject({ stopped: "shutdown", resumedSession: null, reason: "stuck on a prompt" });
    expect(project.running()).toHaveLength(1);
    expect(project.running()[0]).toBe(project.supervisors[1]);
    expect(project.kills).toEqual([]);
    // The original prompt stays the prompt: the supervisor adds the reason (src/worker/supervisor/prompt.ts).
    expect(await readFile(project.paths("issue-1").prompt, "utf8")).toBe("do the thing");
    expect(await launchOf(project)).toMatchObject({ resumeSessionId: null, restartReason: "stuck on a prompt" });
  });

  it("resumes the session of a resumable preset, from the last status", async () => {
    const project = await started({ agent: { preset: "claude" } }, { sessionId: "sess-42" });
    const result = await restartAgent({ cwd: project.cwd, env: project.env, instance: "issue-1", ports: project.ports.overrides });
    expect(result).toMatchObject({ preset: "claude", resumedSession: "sess-42", reason: "restarted by the user (cspace restart)" });
    expect(await launchOf(project)).toMatchObject({ preset: "claude", resumeSessionId: "sess-42", restartReason: "restarted by the user (cspace restart)" });
  });

  it("takes the session from state.json when the supervisor is dead, and kills it by its pid before starting one", async () => {
    const project = await started({ agent: { preset: "claude" } }, { sessionId: "sess-7" });
    await project.supervisors[0]?.die();
    const result = await restartAgent({ cwd: project.cwd, env: project.env, instance: "issue-1", ports: project.ports.overrides });
    expect(result).toMatchObject({ resumedSession: "sess-7" });
    // The dead one's lock named pid 100: the kill script was run for it (it found nothing there).
    expect(project.kills).toEqual([["100", "gone"]]);
    expect(project.running()).toHaveLength(1);
  });

  it("refuses an instance where no agent ever started (exit 2)", async () => {
    const project = await workerProject(await tempDir());
    const { warm } = await import("../../../src/services/warm/warm.ts");
    await warm({ cwd: project.cwd, env: project.env, instances: ["issue-1"], reset: false, ports: project.ports.overrides });
    await expect(restartAgent({ cwd: project.cwd, env: project.env, instance: "issue-1", ports: project.ports.overrides })).rejects.toThrow(/no agent was ever started in instance "issue-1"/);
  });

  it("refuses when the container is not running (exit 3), naming warm", async () => {
    const project = await started();
    for (const c of project.ports.runtime.containers.values()) c.state = "exited";
    await writeFile(project.paths("issue-1").state, "{}");
    const refused = restartAgent({ cwd: project.cwd, env: project.env, instance: "issue-1", ports: project.ports.overrides });
    await expect(refused).rejects.toThrow(ExternalError);
    await expect(refused).rejects.toMatchObject({ hint: expect.stringContaining("cspace warm issue-1") as unknown });
  });
});
