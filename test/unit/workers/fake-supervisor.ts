import { readFileSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import { serveNdjson, type NdjsonServer } from "../../../src/adapters/messaging/server.ts";
import type { AgentState, WorkerStatus } from "../../../src/core/agents/worker-status.ts";
import type { Launch } from "../../../src/core/messaging/launch.ts";
import { WORKER_COMMANDS, errorReply, okReply, type Reply, type Request } from "../../../src/core/messaging/protocol.ts";
import type { InstancePaths } from "../../../src/services/workers/instance-files.ts";

/**
 * An in-process stand-in for the supervisor on an instance's w.sock, for
 * service tests with fake ports: it holds supervisor.pid, writes state.json,
 * queues sends and answers status, interrupt and shutdown as
 * docs/protocol.md says. Tests that need the real supervisor use the docker
 * lane (or test/unit/worker/).
 */
export class FakeSupervisor {
  readonly sent: { readonly text: string; readonly from: string | null }[] = [];
  readonly launch: Launch | null;
  state: AgentState;
  sessionId: string | null;
  #server: NdjsonServer | null = null;
  #serving: Promise<NdjsonServer> | null = null;
  readonly #paths: InstancePaths;
  readonly #pid: number;

  private constructor(paths: InstancePaths, pid: number, state: AgentState, sessionId: string | null) {
    this.#paths = paths;
    this.#pid = pid;
    this.state = state;
    this.sessionId = sessionId;
    try {
      this.launch = JSON.parse(readFileSync(paths.launch, "utf8")) as Launch;
    } catch {
      this.launch = null;
    }
  }

  /**
   * `created` hears the supervisor before its socket answers: a caller that
   * counts supervisors must count this one before anyone can talk to it (the
   * service under test may get its answer, and return, before `start` resolves).
   */
  static async start(paths: InstancePaths, options: { pid?: number; state?: AgentState; sessionId?: string | null; created?: (supervisor: FakeSupervisor) => void } = {}): Promise<FakeSupervisor> {
    const supervisor = new FakeSupervisor(paths, options.pid ?? 4242, options.state ?? "working", options.sessionId ?? null);
    options.created?.(supervisor);
    await writeFile(paths.supervisorLock, `${String(supervisor.#pid)}\n12345\n`);
    supervisor.#serving = serveNdjson(paths.workerSocket, (request) => supervisor.#handle(request), { accepted: WORKER_COMMANDS });
    supervisor.#server = await supervisor.#serving;
    await supervisor.writeState();
    return supervisor;
  }

  get running(): boolean {
    return this.#server !== null;
  }

  status(): WorkerStatus {
    return {
      instance: this.launch?.instance ?? "unknown",
      preset: this.launch?.preset ?? "scripted",
      state: this.state,
      exitCode: this.state === "exited" ? 0 : null,
      signal: null,
      turns: 2,
      costUsd: 0.25,
      sessionId: this.sessionId,
      lastActivity: new Date().toISOString(),
      queueDepth: this.sent.length,
      branch: this.launch?.branch ?? "unknown",
      headSha: "c".repeat(40),
      pid: this.#pid,
      startedAt: new Date().toISOString(),
    };
  }

  async writeState(): Promise<void> {
    await writeFile(this.#paths.state, `${JSON.stringify({ ...this.status(), agent: null })}\n`);
  }

  /** Dies without a word: the socket stops answering, the lock stays (as after SIGKILL). */
  async die(): Promise<void> {
    // Its socket may answer before start() has resolved: a death then must still close it.
    await this.#serving;
    await this.#server?.close();
    this.#server = null;
  }

  /** Exits as after a shutdown: socket closed, lock released. */
  async exit(): Promise<void> {
    await this.die();
    await rm(this.#paths.supervisorLock, { force: true });
  }

  #handle(request: Request): Reply | Promise<Reply> {
    switch (request.cmd) {
      case "status":
        return okReply(request.id, { status: this.status() });
      case "send":
        this.sent.push({ text: request.text ?? "", from: request.from ?? null });
        return okReply(request.id, { queued: true, queueDepth: this.sent.length });
      case "interrupt":
        if (this.state === "exited") return errorReply(request.id, "not-running", "the agent is not running (state exited)");
        this.state = "exited";
        return okReply(request.id, { reportId: "r-1", outcome: "interrupted" });
      case "shutdown":
        this.state = "exited";
        // Replies first, then goes, as the real one does.
        setImmediate(() => { void this.writeState().then(() => this.exit()); });
        return okReply(request.id, { reportId: null, undelivered: [] });
      case "report":
        return errorReply(request.id, "unknown-command", "not a worker command");
    }
  }
}
