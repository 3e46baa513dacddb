import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { WorkerStatus } from "../../../src/core/agents/worker-status.ts";
import { INSTANCE_FILES } from "../../../src/core/messaging/layout.ts";
import { isAlive } from "../../../src/worker/supervisor/proc.ts";
import { parseLockRecord } from "../../../src/shared/pid-lock.ts";
import {
  allReports,
  ask,
  cleanUp,
  deliveredReports,
  events,
  listenAsCoordinator,
  makeInstance,
  outboxReports,
  startSupervisor,
  status,
  tempDir,
  waitFor,
  waitForState,
  waitUntilServing,
} from "./support.ts";

afterEach(cleanUp);

// Each test starts real processes (Node, git): generous under a loaded machine.
describe("the supervisor", { timeout: 30_000 }, () => {
  it("runs the agent, writes its report to the outbox before sending it, and moves it to delivered/ on ack", async () => {
    const instance = makeInstance("test-oneshot", "commit a.txt\nprint working");
    const coordinator = await listenAsCoordinator(instance.dir);
    const running = startSupervisor(instance.dir);
    const [report] = await waitFor("the report delivered", () => deliveredReports(instance.dir).length === 1 && deliveredReports(instance.dir));
    expect(report).toMatchObject({ instance: "issue-1", outcome: "success", exitCode: 0, signal: null, branch: "issue-1", base: "main", commitsAhead: 1, turns: 1, costUsd: 0.25, summary: "done: commit a.txt", blockedReason: null, sessionId: "session-1" });
    expect(report?.headSha).toBe(execFileSync("git", ["rev-parse", "HEAD"], { cwd: instance.workdir, encoding: "utf8" }).trim());
    expect(coordinator.reports.map((r) => r.id)).toEqual([report?.id]);
    expect(coordinator.inOutboxOnArrival).toEqual([true]);
    expect(outboxReports(instance.dir)).toEqual([]);
    const st = await status(instance.dir);
    expect(st).toMatchObject({ state: "exited", exitCode: 0, turns: 1, queueDepth: 0, branch: "issue-1", headSha: report?.headSha });
    const types = events(instance.dir).map((e) => `${e.source}:${e.type}`);
    expect(types).toEqual(expect.arrayContaining(["supervisor:started", "agent:text", "agent:result", "supervisor:exited", "supervisor:report-written", "supervisor:report-delivered"]));
    expect(await ask(instance.dir, "shutdown")).toMatchObject({ ok: true, reportId: null, undelivered: [] });
    expect((await running.exited).code).toBe(0);
    expect(allReports(instance.dir)).toHaveLength(1);
  });

  it("queues messages that arrive while the agent is busy and delivers all of them, in order, as new turns", async () => {
    const go = path.join(tempDir(), "go");
    const instance = makeInstance("test-session", `wait-file ${go}`);
    const running = startSupervisor(instance.dir);
    await waitForState(instance.dir, "working");
    for (const text of ["first", "second", "third"]) {
      expect(await ask(instance.dir, "send", { text, from: "test" })).toMatchObject({ ok: true, queued: true });
    }
    expect(await status(instance.dir)).toMatchObject({ state: "working", queueDepth: 3 });
    writeFileSync(go, "");
    const [report] = await waitFor("the report", () => allReports(instance.dir).length === 1 && allReports(instance.dir));
    expect(readFileSync(path.join(instance.workdir, "inputs.log"), "utf8").split("\n").filter(Boolean)).toEqual([`wait-file ${go}`, "first", "second", "third"]);
    expect(report).toMatchObject({ outcome: "success", turns: 4, costUsd: 1, summary: "done: third" });
    const delivered = events(instance.dir).filter((e) => e.type === "delivered").map((e) => e.text);
    expect(delivered).toEqual(["first", "second", "third"]);
    running.child.kill("SIGTERM");
    expect((await running.exited).code).toBe(0);
  });

  it("delivers again a message the agent exited without answering", async () => {
    const go = path.join(tempDir(), "go");
    const instance = makeInstance("test-session", `wait-file ${go}\ndrop-next`);
    startSupervisor(instance.dir);
    await waitForState(instance.dir, "working");
    await ask(instance.dir, "send", { text: "print rescued" });
    writeFileSync(go, "");
    // Answered by the next run, which is the exited run's follow-up turn: one report covers both.
    const [report] = await waitFor("the report", () => allReports(instance.dir).length === 1 && allReports(instance.dir));
    expect(report).toMatchObject({ summary: "done: print rescued", turns: 2 });
    expect(await status(instance.dir)).toMatchObject({ state: "exited", queueDepth: 0 });
    expect(allReports(instance.dir)).toHaveLength(1);
    expect(events(instance.dir).map((e) => e.type)).toContain("requeued");
    expect(readFileSync(path.join(instance.workdir, "inputs.log"), "utf8").split("\n").filter(Boolean)).toEqual([`wait-file ${go}\\ndrop-next`, "print rescued"]);
  });

  it("starts a new invocation for a message after the agent exited, and reports again", async () => {
    const instance = makeInstance("test-oneshot", "commit a.txt");
    startSupervisor(instance.dir);
    await waitFor("the first report", () => allReports(instance.dir).length === 1);
    expect(await ask(instance.dir, "send", { text: "commit b.txt" })).toMatchObject({ ok: true });
    const reports = await waitFor("the second report", () => allReports(instance.dir).length === 2 && allReports(instance.dir));
    // Each report has its own run's turns (the coordinator adds reports up); commits are the branch's.
    expect(reports.map((r) => [r.outcome, r.commitsAhead, r.turns])).toEqual([["success", 1, 1], ["success", 2, 1]]);
    expect(reports[0]?.id).not.toBe(reports[1]?.id);
  });

  it("runs a message that waited for a one-shot agent as its follow-up turn before reporting, so the report covers both turns' commits", async () => {
    const go = path.join(tempDir(), "go");
    const instance = makeInstance("test-oneshot", `wait-file ${go}\ncommit a.txt`);
    const coordinator = await listenAsCoordinator(instance.dir);
    startSupervisor(instance.dir);
    await waitForState(instance.dir, "working");
    expect(await ask(instance.dir, "send", { text: "commit b.txt", from: "test" })).toMatchObject({ ok: true, queued: true });
    writeFileSync(go, "");
    // The first report the coordinator hears is the one it merges on: it must already have the follow-up's commit.
    await waitFor("a report delivered", () => coordinator.reports.length > 0);
    expect(coordinator.reports[0]).toMatchObject({ outcome: "success", commitsAhead: 2, turns: 2, summary: "done: commit b.txt" });
    expect(await status(instance.dir)).toMatchObject({ state: "exited", queueDepth: 0, turns: 2 });
    expect(allReports(instance.dir)).toHaveLength(1);
    expect(readFileSync(path.join(instance.workdir, "inputs.log"), "utf8").split("\n").filter(Boolean)).toEqual([`wait-file ${go}\\ncommit a.txt`, "commit b.txt"]);
  });

  it("runs a message that waited for a one-shot agent whose turn failed as its follow-up, reported with it, not in a report of its own", async () => {
    const go = path.join(tempDir(), "go");
    const instance = makeInstance("test-oneshot", `wait-file ${go}\nexit 1`);
    const coordinator = await listenAsCoordinator(instance.dir);
    startSupervisor(instance.dir);
    await waitForState(instance.dir, "working");
    expect(await ask(instance.dir, "send", { text: "commit b.txt", from: "test" })).toMatchObject({ ok: true, queued: true });
    writeFileSync(go, "");
    await waitFor("a report delivered", () => coordinator.reports.length > 0);
    // One report for the attempt: the failed turn and the message's, which ended it.
    expect(coordinator.reports[0]).toMatchObject({ outcome: "success", commitsAhead: 1, summary: "done: commit b.txt" });
    expect(await status(instance.dir)).toMatchObject({ state: "exited", queueDepth: 0 });
    expect(allReports(instance.dir)).toHaveLength(1);
    expect(events(instance.dir).filter((e) => e.type === "report-deferred")).toHaveLength(1);
  });

  it("writes each message to a streaming command's open stdin at once, without starting it again (agent.commandInput stream)", async () => {
    const instance = makeInstance("command", "the prompt", {
      command: 'while IFS= read -r line; do echo "$line" >> inputs.log; done',
      commandInput: "stream",
    });
    startSupervisor(instance.dir);
    await waitUntilServing(instance.dir);
    const inputs = (): string[] => (existsSync(path.join(instance.workdir, "inputs.log")) ? readFileSync(path.join(instance.workdir, "inputs.log"), "utf8").split("\n").filter(Boolean) : []);
    await waitFor("the prompt on stdin", () => inputs().length === 1);
    expect(await ask(instance.dir, "send", { text: "first" })).toMatchObject({ ok: true });
    expect(await ask(instance.dir, "send", { text: "second" })).toMatchObject({ ok: true });
    await waitFor("both messages on the same stdin", () => inputs().length === 3);
    expect(inputs()).toEqual(["the prompt", "first", "second"]);
    expect(events(instance.dir).filter((e) => e.type === "started")).toHaveLength(1);
    expect((await status(instance.dir)).state).toBe("working");
  });

  it("resumes a session-keeping agent's session for a message after it exited", async () => {
    const instance = makeInstance("test-session", "print hello");
    startSupervisor(instance.dir);
    await waitFor("the first report", () => allReports(instance.dir).length === 1);
    await ask(instance.dir, "send", { text: "print again" });
    await waitFor("the second report", () => allReports(instance.dir).length === 2);
    const started = events(instance.dir).filter((e) => e.type === "started").map((e) => e.text ?? "");
    expect(started[1]).toContain("--resume session-1");
  });

  it("keeps the report in the outbox while nobody listens, and delivers it (same id) when a coordinator appears", async () => {
    const instance = makeInstance("test-oneshot", "commit a.txt");
    startSupervisor(instance.dir);
    const [kept] = await waitFor("the report written", () => outboxReports(instance.dir).length === 1 && outboxReports(instance.dir));
    // Several failed attempts (the backoff is capped at 200 ms here) leave it where it is.
    await waitFor("two failed attempts", () => (readFileSync(path.join(instance.dir, INSTANCE_FILES.supervisorLog), "utf8").match(/not delivered yet/g) ?? []).length >= 2);
    expect(outboxReports(instance.dir).map((r) => r.id)).toEqual([kept?.id]);
    expect(deliveredReports(instance.dir)).toEqual([]);
    const coordinator = await listenAsCoordinator(instance.dir);
    await waitFor("delivery", () => deliveredReports(instance.dir).length === 1);
    expect(coordinator.reports.map((r) => r.id)).toEqual([kept?.id]);
    expect(outboxReports(instance.dir)).toEqual([]);
  });

  it("sends reports a previous supervisor left in the outbox", async () => {
    const instance = makeInstance("test-oneshot", "print first");
    const first = startSupervisor(instance.dir);
    await waitFor("the first report", () => outboxReports(instance.dir).length === 1);
    first.child.kill("SIGKILL");
    await first.exited;
    const coordinator = await listenAsCoordinator(instance.dir);
    startSupervisor(instance.dir);
    await waitFor("both reports delivered", () => deliveredReports(instance.dir).length === 2);
    expect(new Set(coordinator.reports.map((r) => r.id)).size).toBe(2);
  });

  it("refuses a second supervisor for the same instance with exit code 3, and replaces a stale lock", async () => {
    const instance = makeInstance("test-session", "hang");
    // A lock left by a process that is gone.
    const dead = execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
    writeFileSync(path.join(instance.dir, INSTANCE_FILES.supervisorLock), `${dead}\n`);
    const first = startSupervisor(instance.dir);
    const firstStatus = await waitUntilServing(instance.dir);
    expect(parseLockRecord(readFileSync(path.join(instance.dir, INSTANCE_FILES.supervisorLock), "utf8"))?.pid).toBe(firstStatus.pid);
    const second = await startSupervisor(instance.dir).exited;
    expect(second.code).toBe(3);
    expect(second.stderr).toContain(`another supervisor (pid ${String(firstStatus.pid)}) already runs`);
    expect((await status(instance.dir)).pid).toBe(firstStatus.pid);
    first.child.kill("SIGTERM");
    await first.exited;
  });

  it("stops an agent left running by a supervisor that was killed, before starting its own", async () => {
    const pidFile = path.join(tempDir(), "pid");
    const instance = makeInstance("test-session", `pid-file ${pidFile}\nhang`);
    const first = startSupervisor(instance.dir);
    const orphan = await waitFor("the agent's pid", () => existsSync(pidFile) && Number(readFileSync(pidFile, "utf8")));
    await waitFor("state.json naming the agent", () => readFileSync(path.join(instance.dir, INSTANCE_FILES.state), "utf8").includes(`"pid": ${String(orphan)}`));
    first.child.kill("SIGKILL");
    await first.exited;
    expect(alive(orphan)).toBe(true);
    writeFileSync(pidFile, "");
    startSupervisor(instance.dir);
    const successor = await waitFor("the new agent's pid", () => Number(readFileSync(pidFile, "utf8")));
    expect(successor).not.toBe(orphan);
    expect(alive(orphan)).toBe(false);
  });

  it("reports a crash when the agent is killed with SIGKILL", async () => {
    const pidFile = path.join(tempDir(), "pid");
    const instance = makeInstance("test-session", `pid-file ${pidFile}\nhang`);
    startSupervisor(instance.dir);
    const pid = await waitFor("the agent's pid", () => existsSync(pidFile) && Number(readFileSync(pidFile, "utf8")));
    process.kill(pid, "SIGKILL");
    const [report] = await waitFor("the report", () => allReports(instance.dir).length === 1 && allReports(instance.dir));
    expect(report).toMatchObject({ outcome: "crash", exitCode: null, signal: "SIGKILL" });
    expect(await status(instance.dir)).toMatchObject({ state: "exited", signal: "SIGKILL" });
  });

  it("reports oom when the memory cgroup's oom_kill counter grew", async () => {
    const oomFile = path.join(tempDir(), "memory.events");
    writeFileSync(oomFile, "oom 0\noom_kill 0\n");
    const instance = makeInstance("test-oneshot", `oom ${oomFile}`);
    startSupervisor(instance.dir, { TEST_OOM_FILE: oomFile });
    const [report] = await waitFor("the report", () => allReports(instance.dir).length === 1 && allReports(instance.dir));
    expect(report).toMatchObject({ outcome: "oom", signal: "SIGKILL" });
  });

  it("reports failure with the exit code, and failure when the agent cannot start", async () => {
    const failing = makeInstance("test-oneshot", "exit 3");
    startSupervisor(failing.dir);
    const broken = makeInstance("test-broken", "anything");
    startSupervisor(broken.dir);
    const [failed] = await waitFor("the failure", () => allReports(failing.dir).length === 1 && allReports(failing.dir));
    expect(failed).toMatchObject({ outcome: "failure", exitCode: 3 });
    const [notStarted] = await waitFor("the start failure", () => allReports(broken.dir).length === 1 && allReports(broken.dir));
    expect(notStarted).toMatchObject({ outcome: "failure", exitCode: null, commitsAhead: 0 });
    expect(notStarted?.summary).toContain("no command configured");
  });

  it("reports blocked, with the reason the agent gave through the in-container cspace blocked", async () => {
    const instance = makeInstance("test-oneshot", "blocked needs the schema from #10");
    startSupervisor(instance.dir);
    const [report] = await waitFor("the report", () => allReports(instance.dir).length === 1 && allReports(instance.dir));
    expect(report).toMatchObject({ outcome: "blocked", blockedReason: "needs the schema from #10", exitCode: 0 });
    // Consumed: a later run is not blocked by it.
    expect(existsSync(path.join(instance.dir, INSTANCE_FILES.blocked))).toBe(false);
  });

  it("interrupts the agent (escalating past an ignored SIGINT) and reports it interrupted", async () => {
    const pidFile = path.join(tempDir(), "pid");
    const instance = makeInstance("test-session", `ignore-sigint\npid-file ${pidFile}\nhang`);
    startSupervisor(instance.dir);
    await waitFor("the agent", () => existsSync(pidFile));
    const reply = await ask(instance.dir, "interrupt");
    expect(reply).toMatchObject({ ok: true, outcome: "interrupted" });
    expect(allReports(instance.dir).map((r) => r.outcome)).toEqual(["interrupted"]);
    expect(events(instance.dir).filter((e) => e.type === "signal").map((e) => e.text)).toEqual(["SIGINT", "SIGTERM"]);
    expect(await ask(instance.dir, "interrupt")).toMatchObject({ ok: false, error: { code: "not-running" } });
  });

  it("shutdown stops the agent, gives exactly one report, releases the lock and removes its socket", async () => {
    const instance = makeInstance("test-session", "hang");
    const running = startSupervisor(instance.dir);
    await waitUntilServing(instance.dir);
    await ask(instance.dir, "send", { text: "never delivered" });
    const reply = await ask(instance.dir, "shutdown");
    expect(reply).toMatchObject({ ok: true, undelivered: ["never delivered"] });
    expect((await running.exited).code).toBe(0);
    const reports = allReports(instance.dir);
    expect(reports.map((r) => r.outcome)).toEqual(["interrupted"]);
    expect(reply).toMatchObject({ reportId: reports[0]?.id });
    expect(existsSync(path.join(instance.dir, INSTANCE_FILES.supervisorLock))).toBe(false);
    expect(existsSync(path.join(instance.dir, INSTANCE_FILES.workerSocket))).toBe(false);
    // The lock is free: another supervisor can start.
    startSupervisor(instance.dir);
    await waitUntilServing(instance.dir);
  });

  it("keeps state.json current with the status it answers", async () => {
    const instance = makeInstance("test-session", "hang");
    startSupervisor(instance.dir);
    const answered = await waitUntilServing(instance.dir);
    const state = await waitFor("state.json working", () => {
      try {
        const value = JSON.parse(readFileSync(path.join(instance.dir, INSTANCE_FILES.state), "utf8")) as WorkerStatus & { agent: { pid: number } | null };
        return value.state === "working" && value;
      } catch {
        return false;
      }
    });
    expect(state).toMatchObject({ instance: "issue-1", preset: "test-session", pid: answered.pid, branch: "issue-1" });
    expect(state.agent?.pid).toEqual(expect.any(Number));
  });

  it("rotates events.ndjson past eventsMaxBytes, never splitting a line", async () => {
    const instance = makeInstance("test-oneshot", "spam 200", { eventsMaxBytes: 4000 });
    startSupervisor(instance.dir);
    await waitFor("the report", () => allReports(instance.dir).length === 1);
    expect(existsSync(path.join(instance.dir, INSTANCE_FILES.eventsRotated))).toBe(true);
    for (const file of [INSTANCE_FILES.events, INSTANCE_FILES.eventsRotated]) {
      expect(readFileSync(path.join(instance.dir, file)).length).toBeLessThanOrEqual(4000);
      // events() parses every line: a torn line would throw.
      expect(events(instance.dir, file).length).toBeGreaterThan(0);
    }
  });

  it("keeps serving on w.sock through garbage, an overlong line, a silent client and 50 concurrent clients", async () => {
    const instance = makeInstance("test-session", "hang");
    startSupervisor(instance.dir, { TEST_IDLE_MS: "150" });
    await waitUntilServing(instance.dir);
    const socket = path.join(instance.dir, INSTANCE_FILES.workerSocket);
    const exchange = (payload: string): Promise<string> => new Promise((resolve) => {
      const conn = createConnection(socket);
      let received = "";
      conn.on("data", (chunk: Buffer) => { received += chunk.toString(); });
      conn.on("error", () => undefined);
      conn.once("close", () => { resolve(received); });
      conn.once("connect", () => { if (payload !== "") conn.write(payload); });
    });
    // Each connection is closed by the supervisor: after the overlong line at once, the others once idle.
    const [garbage, overlong, silent] = await Promise.all([
      exchange('not json\n{"v":7,"id":"a","cmd":"status"}\n{"v":1,"id":"b","cmd":"report","report":{}}\n'),
      exchange(`${"z".repeat(1024 * 1024 + 1)}\n`),
      exchange(""),
    ]);
    expect(garbage.split("\n").filter(Boolean).map((line) => (JSON.parse(line) as { error: { code: string } }).error.code)).toEqual(["bad-json", "unsupported-version", "unknown-command", "timeout"]);
    expect(JSON.parse(overlong.split("\n")[0] ?? "")).toMatchObject({ ok: false, error: { code: "too-large" } });
    expect(JSON.parse(silent.split("\n")[0] ?? "")).toMatchObject({ ok: false, error: { code: "timeout" } });
    const replies = await Promise.all(Array.from({ length: 50 }, () => ask(instance.dir, "status")));
    expect(replies.every((reply) => reply.ok)).toBe(true);
  });

  it("exits 2 with a clear message for an invalid launch.json", async () => {
    const instance = makeInstance("test-oneshot", "x");
    writeFileSync(path.join(instance.dir, INSTANCE_FILES.launch), JSON.stringify({ v: 1, instance: "issue-1" }));
    const result = await startSupervisor(instance.dir).exited;
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/preset must be a non-empty string/);
    expect(existsSync(path.join(instance.dir, INSTANCE_FILES.supervisorLock))).toBe(false);
  });
});

function alive(pid: number): boolean {
  return isAlive({ pid, startTicks: null });
}
