import { execFile, execFileSync, spawn } from "node:child_process";
import { promisify } from "node:util";
import type Docker from "dockerode";
import { tokenAccess } from "../../src/adapters/git/remote/github-remote.ts";
import type { ReportRow, RunReport } from "../../src/core/coordinator/report.ts";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { binPath, cleanEnv, repoRoot } from "./cli.ts";
import { BASE_IMAGE } from "./docker.ts";
import { makeFixtureRepo, type FixtureRepo } from "./fixture-repo.ts";
import { simulatorSeed } from "./github-simulator/seed.ts";
import { startGithubSimulator, type GithubSimulator } from "./github-simulator/server.ts";

/**
 * A project whose forge is the in-process GitHub simulator, for `cspace
 * coordinate` in real containers with scripted agents, as
 * test/docker/coordinate-github.test.ts makes it: the checkout pushed to the
 * simulator's repository over smart HTTP, issues seeded with given numbers,
 * records reset before the run. Scenarios are judged by the simulator's bare
 * repository and its pull-request and issue records.
 */

export interface GithubIssue {
  readonly number: number;
  readonly title: string;
  readonly body: string;
  readonly blockedBy?: readonly number[];
}

export interface GithubProjectOptions {
  readonly name: string;
  readonly issues: readonly GithubIssue[];
  readonly coordinator?: Readonly<Record<string, unknown>>;
  /** Extra files in the checkout: templates, a file the issues edit. */
  readonly files?: Readonly<Record<string, string>>;
}

export interface GithubRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly report: RunReport | null;
}

export interface GithubProject {
  readonly repo: FixtureRepo;
  readonly simulator: GithubSimulator;
  /** git against the simulator's bare repository. */
  git(...args: string[]): string;
  /** `cspace coordinate <numbers> --json` with the token in its environment, killed (SIGTERM, then SIGKILL) after `timeoutMs`. */
  coordinate(numbers: readonly number[], timeoutMs?: number): Promise<GithubRun>;
  /** The subjects of the commits on the simulator's main above the fixture's, oldest first. */
  subjects(): string[];
  /** The simulator's pull requests as [head, merged], sorted. */
  pulls(): [string, boolean][];
  /** The containers of this project, by instance name. */
  instances(): Promise<readonly string[]>;
  /** Removes every container of the project, the project, then stops the simulator. */
  remove(): Promise<void>;
}

export async function makeGithubProject(docker: Docker, runId: string, options: GithubProjectOptions): Promise<GithubProject> {
  const token = `ghp_${options.name}${runId}`.replace(/[^A-Za-z0-9_]/g, "") + "secret";
  const simulator = await startGithubSimulator({ repo: "octo/widgets", token });
  let repo: FixtureRepo;
  try {
    repo = await makeFixtureRepo({
      projectName: `${options.name}-${runId}`.slice(0, 60),
      devcontainer: { image: BASE_IMAGE },
      config: {
        agent: { preset: "scripted" },
        forge: { type: "github", repo: simulator.repo, apiUrl: simulator.url },
        coordinator: { maxParallel: 3, ...options.coordinator },
      },
      files: { ...options.files },
    });
  } catch (error) {
    await simulator.close();
    throw error;
  }
  const id = projectId(repo.projectName, repo.dir);
  const containers = (): Promise<Docker.ContainerInfo[]> => docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } });
  const remove = async (): Promise<void> => {
    const left = await containers();
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    await repo.remove();
    await simulator.close();
  };
  const git = (...args: string[]): string => execFileSync("git", ["--git-dir", simulator.world.git.dir, ...args], { encoding: "utf8" }).trim();
  try {
    // Asynchronously: the simulator answering the push runs in this process.
    await promisify(execFile)("git", ["push", "--quiet", simulator.gitUrl, "main:refs/heads/main"], { cwd: repo.dir, env: { ...process.env, ...tokenAccess(token).env } });
    await simulatorSeed(simulator).issues(
      options.issues.map((issue) => ({
        number: issue.number,
        title: issue.title,
        body: [...(issue.blockedBy ?? []).map((n) => `blocked-by: #${String(n)}`), ...((issue.blockedBy ?? []).length > 0 ? [""] : []), issue.body, ""].join("\n"),
      })),
    );
    simulator.resetRecords();
  } catch (error) {
    await remove();
    throw error;
  }

  return {
    repo,
    simulator,
    git,
    coordinate: (numbers, timeoutMs = 150_000) => runCoordinate(repo, token, numbers, timeoutMs),
    subjects: () => {
      const log = git("log", "--format=%s", `${repo.head}..main`);
      return log === "" ? [] : log.split("\n").reverse();
    },
    pulls: () => [...simulator.world.pulls.values()].map((pr): [string, boolean] => [pr.head, pr.merged]).sort(),
    instances: async () => (await containers()).map((c) => c.Labels[LABELS.instance] ?? "").sort(),
    remove,
  };
}

function runCoordinate(repo: FixtureRepo, token: string, numbers: readonly number[], timeoutMs: number): Promise<GithubRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, "--cwd", repo.dir, "coordinate", ...numbers.map(String), "--json"], {
      cwd: repoRoot,
      env: { ...cleanEnv(), ...repo.env, GH_TOKEN: token },
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
export function explainRun(run: GithubRun): string {
  return `exit ${String(run.status)}\n--- stderr\n${run.stderr.slice(-2000)}\n--- events\n${run.stdout.slice(-6000)}`;
}

/** The report's row for an issue; throws when it has none. */
export function rowFor(report: RunReport | null, issue: number): ReportRow {
  const row = report?.rows.find((r) => r.issue === issue);
  if (row === undefined) throw new Error(`the report has no row for #${String(issue)}`);
  return row;
}
