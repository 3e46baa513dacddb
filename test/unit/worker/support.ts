import { execFileSync, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { WorkerEvent, WorkerReport, WorkerStatus } from "../../../src/core/agents/worker-status.ts";
import { INSTANCE_FILES } from "../../../src/core/messaging/layout.ts";
import type { Launch } from "../../../src/core/messaging/launch.ts";
import { COORDINATOR_COMMANDS, okReply, type Reply, type Request, type WorkerCommand } from "../../../src/core/messaging/protocol.ts";
import { newRequestId, request } from "../../../src/adapters/messaging/client.ts";
import { NobodyListeningError } from "../../../src/adapters/messaging/errors.ts";
import { serveNdjson, type NdjsonServer } from "../../../src/adapters/messaging/server.ts";

export const SUPERVISE = fileURLToPath(new URL("fixtures/supervise.ts", import.meta.url));
export const WORKER_MAIN = fileURLToPath(new URL("../../../src/worker/main.ts", import.meta.url));

const cleanups: (() => void | Promise<void>)[] = [];

/** Registers something for cleanUp() to undo. */
export function defer(cleanup: () => void | Promise<void>): void {
  cleanups.push(cleanup);
}

/** A socket file with nobody behind it: bound by a process that was then killed (a crash leaves exactly this). */
export function staleSocket(socket: string): void {
  const script = `require("node:net").createServer().listen(${JSON.stringify(socket)}, () => process.kill(process.pid, "SIGKILL"))`;
  spawnSync(process.execPath, ["-e", script]);
}

/** Runs what the tests left behind (servers, processes, folders), newest first. */
export async function cleanUp(): Promise<void> {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
}

/** A private temporary folder, removed by cleanUp(). Short: socket paths must fit sun_path. */
export function tempDir(prefix = "cw-"): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  cleanups.push(() => { rmSync(dir, { recursive: true, force: true }); });
  return dir;
}

export interface Instance {
  readonly dir: string;
  readonly workdir: string;
  readonly baseSha: string;
}

/** An instance directory with launch.json and prompt.md, and a git workspace on branch issue-1. */
export function makeInstance(preset: string, prompt: string, launch: Partial<Launch> = {}): Instance {
  const root = tempDir();
  const dir = path.join(root, "i");
  const workdir = path.join(root, "w");
  mkdirSync(dir, { mode: 0o700 });
  mkdirSync(workdir);
  const git = (...args: string[]): string => execFileSync("git", args, { cwd: workdir, encoding: "utf8" }).trim();
  git("init", "-q", "-b", "issue-1");
  git("config", "user.email", "test@example.com");
  git("config", "user.name", "Test");
  writeFileSync(path.join(workdir, "README.md"), "base\n");
  git("add", "README.md");
  git("commit", "-q", "-m", "base");
  const baseSha = git("rev-parse", "HEAD");
  writeFileSync(path.join(dir, INSTANCE_FILES.prompt), prompt);
  const full: Launch = {
    v: 1,
    instance: "issue-1",
    preset,
    command: null,
    commandInput: "per-message",
    model: null,
    branch: "issue-1",
    base: "main",
    baseSha,
    workdir,
    promptFile: path.join(dir, INSTANCE_FILES.prompt),
    resumeSessionId: null,
    restartReason: null,
    resumedCostUsd: null,
    eventsMaxBytes: 10 * 1024 * 1024,
    stopGraceMs: 300,
    reportRetryMaxMs: 200,
    ...launch,
  };
  writeFileSync(path.join(dir, INSTANCE_FILES.launch), JSON.stringify(full));
  return { dir, workdir, baseSha };
}

export interface Running {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

export interface Launcher {
  /** The Node that runs it; the tests' own by default. */
  readonly node?: string;
  /** What precedes the instance directory; the test presets' entry by default. */
  readonly entry?: readonly string[];
}

/** Starts a supervisor process (the test presets) on `dir`; killed by cleanUp() if still running. */
export function startSupervisor(dir: string, env: Readonly<Record<string, string>> = {}, launcher: Launcher = {}): Running {
  const child = spawn(launcher.node ?? process.execPath, [...(launcher.entry ?? [SUPERVISE]), dir], {
    env: { ...process.env, TEST_WORKER_MAIN: WORKER_MAIN, ...env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.once("close", (code, signal) => { resolve({ code, signal, stderr }); });
  });
  cleanups.push(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // SIGTERM lets it stop its agent (a detached process group that SIGKILL would orphan); SIGKILL if it does not.
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(timer);
  });
  return { child, exited };
}

/** Polls a condition on files or state (never a fixed sleep): resolves with its first truthy value (0 and "" are not). */
export async function waitFor<T>(what: string, check: () => T | undefined | null | false | 0 | "", timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== null && value !== false && value !== 0 && value !== "") return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

export function ask(dir: string, cmd: WorkerCommand, fields: Partial<Request> = {}, timeoutMs = 10_000): Promise<Reply> {
  return request(path.join(dir, INSTANCE_FILES.workerSocket), { v: 1, id: newRequestId(), cmd, ...fields }, { timeoutMs });
}

/** Waits until the supervisor answers status (the socket file appears at bind, a moment before it accepts). */
export async function waitUntilServing(dir: string, timeoutMs = 15_000): Promise<WorkerStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await status(dir);
    } catch (error) {
      if (!(error instanceof NobodyListeningError) || Date.now() > deadline) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

/** Asks for status until the agent is in that state. */
export async function waitForState(dir: string, state: WorkerStatus["state"]): Promise<WorkerStatus> {
  for (;;) {
    const now = await waitUntilServing(dir);
    if (now.state === state) return now;
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

export async function status(dir: string): Promise<WorkerStatus> {
  const reply = await ask(dir, "status");
  if (!reply.ok) throw new Error(`status failed: ${JSON.stringify(reply)}`);
  return reply.status as WorkerStatus;
}

function jsonFiles(folder: string): string[] {
  try {
    return readdirSync(folder).filter((name) => name.endsWith(".json") && !name.startsWith(".")).sort();
  } catch {
    return [];
  }
}

/** Reports still in the outbox (not acknowledged). */
export function outboxReports(dir: string): WorkerReport[] {
  const folder = path.join(dir, INSTANCE_FILES.outbox);
  return jsonFiles(folder).map((name) => JSON.parse(readFileSync(path.join(folder, name), "utf8")) as WorkerReport);
}

export function deliveredReports(dir: string): WorkerReport[] {
  const folder = path.join(dir, INSTANCE_FILES.delivered);
  return jsonFiles(folder).map((name) => JSON.parse(readFileSync(path.join(folder, name), "utf8")) as WorkerReport);
}

/** Every report written, delivered or not, oldest first. */
export function allReports(dir: string): WorkerReport[] {
  return [...outboxReports(dir), ...deliveredReports(dir)].sort((a, b) => a.id.localeCompare(b.id));
}

export function events(dir: string, file: string = INSTANCE_FILES.events): WorkerEvent[] {
  try {
    return readFileSync(path.join(dir, file), "utf8").split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as WorkerEvent);
  } catch {
    return [];
  }
}

export interface TestCoordinator {
  readonly server: NdjsonServer;
  readonly reports: WorkerReport[];
  readonly messages: { text: string; from: string | undefined }[];
  /** For each report: whether its file was in outbox/ when it arrived (written before sent). */
  readonly inOutboxOnArrival: boolean[];
}

/** Listens on the instance's c.sock like a coordinator: acknowledges reports and messages. */
export async function listenAsCoordinator(dir: string): Promise<TestCoordinator> {
  const coordinator: Omit<TestCoordinator, "server"> = { reports: [], messages: [], inOutboxOnArrival: [] };
  const server = await serveNdjson(path.join(dir, INSTANCE_FILES.coordinatorSocket), (message) => {
    if (message.cmd === "report") {
      const report = message.report as WorkerReport;
      coordinator.inOutboxOnArrival.push(existsSync(path.join(dir, INSTANCE_FILES.outbox, `${report.id}.json`)));
      coordinator.reports.push(report);
    } else if (message.cmd === "send") {
      coordinator.messages.push({ text: message.text ?? "", from: message.from });
    }
    return okReply(message.id);
  }, { accepted: COORDINATOR_COMMANDS });
  cleanups.push(() => server.close());
  return { ...coordinator, server };
}
