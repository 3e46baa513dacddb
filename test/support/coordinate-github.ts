import { execFile, execFileSync } from "node:child_process";
import { promisify } from "node:util";
import type Docker from "dockerode";
import { tokenAccess } from "../../src/adapters/git/remote/github-remote.ts";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { instancePaths, type InstancePaths } from "../../src/services/workers/instance-files.ts";
import { afterEach, inject } from "vitest";
import { BASE_IMAGE, testDocker } from "./docker.ts";
import { runCoordinate, type CoordinateRun } from "./coordinate-project.ts";
import { mergedOnceProblems, type ScriptedIssue } from "./coordinate-run.ts";
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
  /** The project's devcontainer.json (default: the base image). */
  readonly devcontainer?: unknown;
  /** agent.* settings (default: the scripted preset) and verify.*. */
  readonly agent?: Readonly<Record<string, unknown>>;
  readonly verify?: Readonly<Record<string, unknown>>;
  /** Host variables the coordinator runs with, beside the forge token (an agent's own key). */
  readonly env?: Readonly<Record<string, string>>;
}

/** A coordinate run against the simulator: the same as on the local forge. */
export type GithubRun = CoordinateRun;

export interface GithubProject {
  readonly repo: FixtureRepo;
  readonly simulator: GithubSimulator;
  /** What `cspace coordinate` needs in its environment beyond the fixture's: the simulator's token. */
  readonly env: NodeJS.ProcessEnv;
  /** An instance's files in the project's run directory (events, outbox). */
  paths(instance: string): InstancePaths;
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
      devcontainer: options.devcontainer ?? { image: BASE_IMAGE },
      config: {
        agent: options.agent ?? { preset: "scripted" },
        forge: { type: "github", repo: simulator.repo, apiUrl: simulator.url },
        coordinator: { maxParallel: 3, ...options.coordinator },
        ...(options.verify === undefined ? {} : { verify: options.verify }),
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
    env: { ...options.env, GH_TOKEN: token },
    paths: (instance) => instancePaths(repo.runDir, instance),
    git,
    coordinate: (numbers, timeoutMs = 150_000) => runCoordinate(repo, numbers, timeoutMs, { ...options.env, GH_TOKEN: token }),
    subjects: () => {
      const log = git("log", "--format=%s", `${repo.head}..main`);
      return log === "" ? [] : log.split("\n").reverse();
    },
    pulls: () => [...simulator.world.pulls.values()].map((pr): [string, boolean] => [pr.head, pr.merged]).sort(),
    instances: async () => (await containers()).map((c) => c.Labels[LABELS.instance] ?? "").sort(),
    remove,
  };
}

/** A scripted issue (as coordinate-run.ts writes them for the local forge) as a simulator issue: an optional sleep, then one commit. */
export function githubIssue(issue: ScriptedIssue): GithubIssue {
  const lines = issue.sleepSeconds === undefined ? [] : [`cspace-script: sleep ${String(issue.sleepSeconds)}`];
  lines.push(`cspace-script: commit ${issue.path} ${issue.text}`);
  return { number: issue.number, title: issue.title, body: lines.join("\n"), ...(issue.blockedBy === undefined ? {} : { blockedBy: issue.blockedBy }) };
}

/** `mergedOnceProblems` on the simulator, and each issue closed there as completed. */
export function mergedOnceOnGithub(project: GithubProject, issues: readonly ScriptedIssue[]): string[] {
  const { repo, simulator } = project;
  const pulls = [...simulator.world.pulls.values()].map((pr) => ({ head: pr.head, merged: pr.merged, state: pr.state, mergeSha: pr.mergeSha }));
  const problems = mergedOnceProblems((...args) => project.git(...args), repo.head, issues, pulls);
  for (const issue of issues) {
    const state = simulator.world.issues.get(issue.number);
    if (state?.state !== "closed" || state.stateReason !== "completed") problems.push(`#${String(issue.number)} is ${String(state?.state)} (${String(state?.stateReason)}), not closed as completed`);
  }
  return problems;
}

/** `makeGithubProject` for a docker test file: each project (its containers, checkout and simulator) is removed after its test. */
export function useGithubProjects(): (options: GithubProjectOptions) => Promise<GithubProject> {
  const runId = inject("cspaceTestRun");
  const docker = testDocker();
  const made: GithubProject[] = [];
  afterEach(async () => {
    for (const project of made.splice(0).reverse()) await project.remove();
  });
  return async (options) => {
    const project = await makeGithubProject(docker, runId, options);
    made.push(project);
    return project;
  };
}
