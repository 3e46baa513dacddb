import { execFileSync, spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { afterEach, inject } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import type { ReportRow, RunReport } from "../../src/core/coordinator/report.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { binPath, cleanEnv, repoRoot } from "./cli.ts";
import { BASE_IMAGE, testDocker } from "./docker.ts";
import { makeFixtureRepo, type FixtureRepo } from "./fixture-repo.ts";

/**
 * A local-forge project for `cspace coordinate` in real containers, as
 * test/docker/coordinate.test.ts and `cspace demo` make it: scripted agents,
 * a bare remote beside the project, issues as files. Scenarios are judged by
 * what this reads back: the remote's history, its pull-request records and the
 * issue files' state.
 */

/** A local-forge issue file; `blockedBy` lines come first, then the body. */
export function issueFile(title: string, body: string, blockedBy: readonly number[] = []): string {
  const lines = ["---", `title: ${title}`, "---"];
  for (const n of blockedBy) lines.push(`blocked-by: #${String(n)}`);
  if (blockedBy.length > 0) lines.push("");
  lines.push(body, "");
  return lines.join("\n");
}

export interface PullRequestRecord {
  readonly head: string;
  readonly state: string;
  readonly mergeSha: string | null;
}

export interface CoordinateRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The `--json` report, when the run printed one. */
  readonly report: RunReport | null;
}

export interface CoordinateProject {
  readonly repo: FixtureRepo;
  readonly remote: string;
  readonly projectId: string;
  /** git against the bare remote. */
  git(...args: string[]): string;
  /** `cspace coordinate <numbers> --json [args…]`, killed (SIGTERM, then SIGKILL) after `timeoutMs`. */
  coordinate(numbers: readonly number[], timeoutMs?: number, args?: readonly string[]): Promise<CoordinateRun>;
  /** The subjects of the commits on the remote's main above the fixture's, oldest first. */
  subjects(): string[];
  pullRequests(): Promise<readonly PullRequestRecord[]>;
  /** The `state:` of `.cspace/issues/<n>.md` in the project ("open" when absent). */
  issueState(n: number): Promise<string>;
  /** The containers of this project, by instance name. */
  instances(): Promise<readonly string[]>;
  /** Removes every container of the project, then the project. */
  remove(): Promise<void>;
}

export interface CoordinateProjectOptions {
  readonly name: string;
  readonly issues: Readonly<Record<number, string>>;
  readonly coordinator?: Readonly<Record<string, unknown>>;
  /** verify.* settings (none by default). */
  readonly verify?: Readonly<Record<string, unknown>>;
  /** agent.* settings over the scripted preset. */
  readonly agent?: Readonly<Record<string, unknown>>;
  /** Extra files: templates, a file the issues edit. */
  readonly files?: Readonly<Record<string, string>>;
  /** The devcontainer.json (default: the base image as is). */
  readonly devcontainer?: unknown;
  /** container.* settings (none by default). */
  readonly container?: Readonly<Record<string, unknown>>;
  /** notify.* settings (none by default). */
  readonly notify?: Readonly<Record<string, unknown>>;
}

export async function makeCoordinateProject(docker: Docker, options: CoordinateProjectOptions): Promise<CoordinateProject> {
  const files: Record<string, string> = { ...options.files };
  for (const [n, text] of Object.entries(options.issues)) files[`.cspace/issues/${n}.md`] = text;
  const repo = await makeFixtureRepo({
    projectName: options.name.slice(0, 60),
    devcontainer: options.devcontainer ?? { image: BASE_IMAGE },
    config: { agent: { preset: "scripted", ...options.agent }, forge: { type: "local", remote: "../remote.git" }, coordinator: { maxParallel: 3, ...options.coordinator }, ...(options.verify === undefined ? {} : { verify: options.verify }), ...(options.container === undefined ? {} : { container: options.container }), ...(options.notify === undefined ? {} : { notify: options.notify }) },
    files,
  });
  const id = projectId(repo.projectName, repo.dir);
  const remote = path.join(path.dirname(repo.dir), "remote.git");
  execFileSync("git", ["clone", "--quiet", "--bare", repo.dir, remote]);
  const git = (...args: string[]): string => execFileSync("git", ["--git-dir", remote, ...args], { encoding: "utf8" }).trim();
  const containers = (): Promise<Docker.ContainerInfo[]> => docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } });

  return {
    repo,
    remote,
    projectId: id,
    git,
    coordinate: (numbers, timeoutMs = 75_000, args = []) => runCoordinate(repo, numbers, timeoutMs, {}, args),
    subjects: () => {
      const log = git("log", "--format=%s", `${repo.head}..main`);
      return log === "" ? [] : log.split("\n").reverse();
    },
    pullRequests: async () => {
      const text = await readFile(path.join(remote, "cspace", "pull-requests.json"), "utf8").catch(() => null);
      return text === null ? [] : (JSON.parse(text) as { pullRequests: PullRequestRecord[] }).pullRequests;
    },
    issueState: async (n) => {
      const text = await readFile(path.join(repo.dir, ".cspace", "issues", `${String(n)}.md`), "utf8");
      return /^state:\s*(\S+)\s*$/m.exec(text)?.[1] ?? "open";
    },
    instances: async () => (await containers()).map((c) => c.Labels[LABELS.instance] ?? "").sort(),
    remove: async () => {
      const left = await containers();
      await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
      await repo.remove();
    },
  };
}

/** `cspace coordinate <numbers> --json` as a user runs it, with `env` added (a forge token, say); a hang ends in SIGTERM then SIGKILL. */
/**
 * A docker-lane test file's project maker: each project is named after this test run (so the lane's teardown
 * finds what it left) and removed after its test, last made first.
 */
export function useCoordinateProjects(): (options: CoordinateProjectOptions) => Promise<CoordinateProject> {
  const runId = inject("cspaceTestRun");
  const docker = testDocker();
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return async (options) => {
    const made = await makeCoordinateProject(docker, { ...options, name: `${options.name}-${runId}` });
    cleanups.push(() => made.remove());
    return made;
  };
}

export function runCoordinate(repo: FixtureRepo, numbers: readonly number[], timeoutMs: number, env: NodeJS.ProcessEnv = {}, args: readonly string[] = []): Promise<CoordinateRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, "--cwd", repo.dir, "coordinate", ...numbers.map(String), "--json", ...args], {
      cwd: repoRoot,
      env: { ...cleanEnv(), ...repo.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    // A hang is a failure, never a stuck test: SIGTERM leaves the run resumable, SIGKILL if that is not enough.
    const term = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    const kill = setTimeout(() => child.kill("SIGKILL"), timeoutMs + 10_000);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => {
      clearTimeout(term);
      clearTimeout(kill);
      resolve({ status, stdout, stderr, report: reportOf(stdout) });
    });
  });
}

function reportOf(stdout: string): RunReport | null {
  for (const line of stdout.split("\n").reverse()) {
    if (!line.startsWith('{"kind":"report"')) continue;
    const parsed = JSON.parse(line) as { report?: RunReport };
    if (parsed.report !== undefined) return parsed.report;
  }
  return null;
}

/** For a failed expectation: how the run ended, the end of its stderr and of its events (NDJSON on stdout). */
export function explain(run: CoordinateRun): string {
  return `exit ${String(run.status)}\n--- stderr\n${run.stderr.slice(-2000)}\n--- events\n${run.stdout.slice(-6000)}`;
}

/** The report's row for an issue; throws when it has none. */
export function rowOf(report: RunReport | null, issue: number): ReportRow {
  const row = report?.rows.find((r) => r.issue === issue);
  if (row === undefined) throw new Error(`the report has no row for #${String(issue)}`);
  return row;
}

/** A retry prompt carrying only an instruction line: the built-in one repeats the issue's body, whose instruction would run again. */
export function retryTemplate(path: string, text: string): string {
  return ["# Issue #{{issue.number}}, attempt {{attempt}} of {{maxAttempts}} ({{failure.kind}})", "", `cspace-script: commit ${path} ${text}`, ""].join("\n");
}

/** As the demo's: rebase onto the new base, keeping the agent's side of each conflict. */
export const REBASE_TEMPLATE = ["# Rebase `{{branch}}` onto `{{onto}}`", "", "cspace-script: rebase {{onto}}", ""].join("\n");

/** Where the commit whose subject starts with `title` is among `subjects` (-1: nowhere). */
export const at = (subjects: readonly string[], title: string): number => subjects.findIndex((s) => s.startsWith(title));
