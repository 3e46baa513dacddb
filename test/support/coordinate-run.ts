import { execFileSync, spawn, type ChildProcessByStdio } from "node:child_process";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import type Docker from "dockerode";
import { afterEach } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { tailEvents } from "../../src/services/workers/events.ts";
import { instancePaths, type InstancePaths } from "../../src/services/workers/instance-files.ts";
import { runCliAsync } from "./cli-async.ts";
import { binPath, cleanEnv, repoRoot } from "./cli.ts";
import { BASE_IMAGE } from "./docker.ts";
import { makeFixtureRepo, type FixtureRepo } from "./fixture-repo.ts";

/**
 * A local-forge project with scripted agents, and `cspace coordinate` as a
 * child process whose `--json` progress lines can be waited on, so a test
 * can `kill -9` it at a chosen moment and judge the resumed run by the
 * remote's history and the forge's records. The child process serves a
 * GitHub-simulator project too (test/support/coordinate-github.ts).
 */

export interface ScriptedIssue {
  readonly number: number;
  readonly title: string;
  readonly blockedBy?: readonly number[];
  readonly sleepSeconds?: number;
  /** What the agent tells the coordinator (`cspace send _coordinator`) after its sleep, before its commit. */
  readonly say?: string;
  /** Whether the agent then waits for a message (`cspace send issue-<n>`) before its commit: its turn ends until one comes. */
  readonly waitMessage?: boolean;
  readonly path: string;
  readonly text: string;
}

export interface ForgeProject {
  readonly repo: FixtureRepo;
  readonly remote: string;
  readonly issues: readonly ScriptedIssue[];
  readonly git: (...args: string[]) => string;
  readonly paths: (instance: string) => InstancePaths;
  /** Removes every container of the project, then the fixture. */
  remove(): Promise<void>;
}

/**
 * `project(name, issues)` for a docker-lane test file: a local-forge project
 * per call (named after the test run), each removed with its containers
 * after its test.
 */
export function useForgeProjects(runId: string, docker: Docker): (name: string, issues: readonly ScriptedIssue[], config?: Readonly<Record<string, unknown>>) => Promise<ForgeProject> {
  const made: ForgeProject[] = [];
  afterEach(async () => {
    for (const project of made.splice(0).reverse()) await project.remove();
  });
  return async (name, issues, config) => {
    const project = await makeForgeProject(`${name}-${runId}`, issues, docker, config);
    made.push(project);
    return project;
  };
}

/** `config` is merged over the scenario's own (scripted agents, the local forge, three at once) key by key at the top level. */
export async function makeForgeProject(name: string, issues: readonly ScriptedIssue[], docker: Docker, config: Readonly<Record<string, unknown>> = {}): Promise<ForgeProject> {
  const files: Record<string, string> = {};
  for (const issue of issues) {
    const lines = ["---", `title: ${issue.title}`, "---", ""];
    for (const dependency of issue.blockedBy ?? []) lines.push(`blocked-by: #${String(dependency)}`);
    if ((issue.blockedBy ?? []).length > 0) lines.push("");
    if (issue.sleepSeconds !== undefined) lines.push(`cspace-script: sleep ${String(issue.sleepSeconds)}`);
    if (issue.say !== undefined) lines.push(`cspace-script: say ${issue.say}`);
    if (issue.waitMessage === true) lines.push("cspace-script: wait-message");
    lines.push(`cspace-script: commit ${issue.path} ${issue.text}`, "");
    files[`.cspace/issues/${String(issue.number)}.md`] = lines.join("\n");
  }
  const repo = await makeFixtureRepo({
    projectName: name.slice(0, 60),
    devcontainer: { image: BASE_IMAGE },
    config: { agent: { preset: "scripted" }, forge: { type: "local", remote: "../remote.git" }, coordinator: { maxParallel: 3 }, ...config },
    files,
  });
  const id = projectId(repo.projectName, repo.dir);
  const remote = path.join(path.dirname(repo.dir), "remote.git");
  execFileSync("git", ["clone", "--quiet", "--bare", repo.dir, remote]);
  return {
    repo,
    remote,
    issues,
    git: (...args) => execFileSync("git", ["--git-dir", remote, ...args], { encoding: "utf8" }).trim(),
    paths: (instance) => instancePaths(repo.runDir, instance),
    remove: async () => {
      const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } });
      await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
      await repo.remove();
    },
  };
}

/** One `--json` progress line of the coordinator. */
export interface ProgressLine {
  readonly kind: string;
  readonly event?: { readonly type: string; readonly issue?: number; readonly onto?: string };
  /** A notice's words. */
  readonly text?: string;
}

export interface CoordinatorChild {
  readonly pid: number;
  readonly lines: readonly ProgressLine[];
  /** Resolves with the first line (seen already or to come) that matches. */
  waitFor(match: (line: ProgressLine) => boolean, timeoutMs?: number): Promise<ProgressLine>;
  /** SIGKILL, and the exit awaited. */
  kill9(): Promise<void>;
  readonly exited: Promise<{ readonly status: number | null; readonly signal: NodeJS.Signals | null; readonly stderr: string }>;
}

export function isEvent(type: string, issue?: number): (line: ProgressLine) => boolean {
  return (line) => line.kind === "event" && line.event?.type === type && (issue === undefined || line.event.issue === issue);
}

/** What `cspace coordinate` runs in: the project's checkout, and what its environment needs beyond the fixture's (a forge token, say). */
export interface CoordinatedProject {
  readonly repo: FixtureRepo;
  readonly env?: NodeJS.ProcessEnv;
}

/** An operator command to the running coordinator, as `cspace send _coordinator <command>`; throws when it is refused. */
export async function operate(project: CoordinatedProject, command: string): Promise<void> {
  const result = await runCliAsync(["--cwd", project.repo.dir, "send", "_coordinator", command], { env: { ...project.repo.env, ...project.env } });
  if (result.status !== 0) throw new Error(`cspace send _coordinator "${command}": exit ${String(result.status)}\n${result.stderr}`);
}

export function startCoordinator(project: CoordinatedProject, args: readonly string[]): CoordinatorChild {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, [binPath, "--cwd", project.repo.dir, "coordinate", ...args, "--json"], {
    cwd: repoRoot,
    env: { ...cleanEnv(), ...project.repo.env, ...project.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: ProgressLine[] = [];
  const waiters = new Set<{ match: (line: ProgressLine) => boolean; resolve: (line: ProgressLine) => void }>();
  let stderr = "";
  let partial = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    partial += chunk;
    const complete = partial.split("\n");
    partial = complete.pop() ?? "";
    for (const text of complete) {
      if (text.trim() === "") continue;
      const line = JSON.parse(text) as ProgressLine;
      lines.push(line);
      for (const waiter of waiters) {
        if (waiter.match(line)) {
          waiters.delete(waiter);
          waiter.resolve(line);
        }
      }
    }
  });
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (status, signal) => {
      resolve({ status, signal, stderr });
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error("cspace coordinate did not start");
  return {
    pid,
    lines,
    exited,
    waitFor: (match, timeoutMs = 300_000) => {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<ProgressLine>((resolve, reject) => {
        const waiter = { match, resolve: (line: ProgressLine) => { clearTimeout(timer); resolve(line); } };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no matching progress line within ${String(timeoutMs)} ms; saw:\n${lines.map((l) => JSON.stringify(l).slice(0, 200)).join("\n")}\nstderr:\n${stderr.slice(-2000)}`));
        }, timeoutMs);
        waiters.add(waiter);
        void exited.then(({ status }) => {
          if (!waiters.delete(waiter)) return;
          clearTimeout(timer);
          reject(new Error(`cspace coordinate exited (${String(status)}) before the moment came; stderr:\n${stderr.slice(-2000)}`));
        });
      });
    },
    kill9: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** A pull request as the forge recorded it, whichever forge: its head branch, whether merged, its merge commit. */
export interface MergedRecord {
  readonly head: string;
  readonly merged: boolean;
  readonly state: string;
  readonly mergeSha: string | null;
}

/**
 * Every issue merged exactly once, judged by the remote's git history and the
 * forge's pull-request records (either forge's): one squash commit each on
 * main above the fixture's, in dependency order, no merge commits, each
 * file's text; only `main` left as a branch; one merged pull request per
 * issue whose merge commit is on main, none sharing one. The problems found.
 */
export function mergedOnceProblems(git: (...args: string[]) => string, fixtureHead: string, issues: readonly ScriptedIssue[], pulls: readonly MergedRecord[]): string[] {
  const problems: string[] = [];
  const subjects = git("log", "--format=%s", `${fixtureHead}..main`).split("\n").filter((s) => s !== "").reverse();
  if (subjects.length !== issues.length) problems.push(`main has ${String(subjects.length)} commits above the fixture's, not ${String(issues.length)}: ${JSON.stringify(subjects)}`);
  if (git("rev-list", "--merges", `${fixtureHead}..main`) !== "") problems.push("main has merge commits");
  const at = (title: string): number => subjects.findIndex((s) => s.startsWith(title));
  for (const issue of issues) {
    const count = subjects.filter((s) => s.startsWith(issue.title)).length;
    if (count !== 1) problems.push(`#${String(issue.number)} has ${String(count)} commits on main`);
    for (const dependency of issue.blockedBy ?? []) {
      const before = issues.find((i) => i.number === dependency);
      if (before !== undefined && !(at(before.title) < at(issue.title))) problems.push(`#${String(issue.number)} is not merged after #${String(dependency)}`);
    }
    const text = git("ls-tree", "--name-only", "main", "--", issue.path) === "" ? null : git("show", `main:${issue.path}`);
    if (text !== issue.text) problems.push(`main:${issue.path} is ${JSON.stringify(text)}, not ${issue.text}`);
  }
  const branches = git("for-each-ref", "--format=%(refname:short)", "refs/heads/");
  if (branches !== "main") problems.push(`branches left on the remote: ${branches.replace(/\n/g, " ")}`);
  const heads = pulls.map((pr) => `${pr.head}:${pr.merged ? "merged" : pr.state}`).sort();
  const expected = issues.map((i) => `issue-${String(i.number)}:merged`).sort();
  if (JSON.stringify(heads) !== JSON.stringify(expected)) problems.push(`pull requests ${JSON.stringify(heads)}, not ${JSON.stringify(expected)}`);
  const onMain = new Set(git("rev-list", "main").split("\n"));
  for (const pr of pulls) if (pr.mergeSha === null || !onMain.has(pr.mergeSha)) problems.push(`${pr.head}'s merge ${String(pr.mergeSha)} is not on main`);
  const squashes = pulls.map((pr) => pr.mergeSha);
  if (new Set(squashes).size !== squashes.length) problems.push("two pull requests share a merge commit");
  return problems;
}

/** `mergedOnceProblems` on the local forge, and each issue's file says `state: closed`. */
export async function mergedOnce(project: ForgeProject): Promise<string[]> {
  const { git, issues, repo } = project;
  const records = JSON.parse(await readFile(path.join(project.remote, "cspace", "pull-requests.json"), "utf8")) as { pullRequests: { head: string; state: string; mergeSha: string | null }[] };
  const problems = mergedOnceProblems(git, repo.head, issues, records.pullRequests.map((pr) => ({ ...pr, merged: pr.state === "merged" })));
  for (const issue of issues) {
    const file = await readFile(path.join(repo.dir, ".cspace", "issues", `${String(issue.number)}.md`), "utf8");
    if (!/^state: closed$/m.test(file)) problems.push(`#${String(issue.number)} is not closed`);
  }
  return problems;
}

/** How many times a supervisor started an agent in the instance (its events.ndjson, rotated file included). */
export async function agentStarts(paths: InstancePaths): Promise<number> {
  let count = 0;
  for (const file of [paths.eventsRotated, paths.events]) {
    const text = await readFile(file, "utf8").catch(() => "");
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      const event = JSON.parse(line) as { source?: string; type?: string };
      if (event.source === "supervisor" && event.type === "started") count++;
    }
  }
  return count;
}

/**
 * Resolves once the instance's supervisor has written that it started an
 * agent: its `started` event, followed as it is written (a `Launched` event
 * only says the supervisor is up; its agent may start a moment later).
 */
export async function agentStarted(paths: InstancePaths): Promise<void> {
  const stop = new AbortController();
  try {
    for await (const line of tailEvents(paths, { from: "start", signal: stop.signal })) {
      if (line.event?.source === "supervisor" && line.event.type === "started") return;
    }
  } finally {
    stop.abort();
  }
}

/** The report files waiting in the instance's outbox (not yet collected). */
export async function outboxReports(paths: InstancePaths): Promise<string[]> {
  const entries = await readdir(paths.outbox, { withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile() && e.name.endsWith(".json")).map((e) => e.name);
}

/** Polls until `check` is true (a condition outside the coordinator, which is dead: nothing to listen to). */
export async function until(check: () => Promise<boolean>, what: string, timeoutMs = 120_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`${what}: not within ${String(timeoutMs)} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
