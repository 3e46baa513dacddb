import { readdir } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { afterEach } from "vitest";
import { BASE_IMAGE } from "./docker.ts";
import { makeFixtureRepo, type FixtureOptions, type FixtureRepo } from "./fixture-repo.ts";

/** Ids of every container (running or not) carrying the fixture project's label: what cspace made for it. */
export async function containersOf(docker: Docker, repo: FixtureRepo): Promise<string[]> {
  const found = await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${projectId(repo.projectName, repo.dir)}`] } });
  return found.map((c) => c.Id);
}

/** The workspace checkouts left under the fixture's data directory, by instance name. */
export async function workspacesOf(repo: FixtureRepo): Promise<string[]> {
  const projects = await readdir(repo.dataDir).catch(() => []);
  const all = await Promise.all(projects.map((p) => readdir(path.join(repo.dataDir, p, "workspaces")).catch(() => [])));
  return all.flat();
}

/**
 * Fixture projects for one test file: `make(name, options)` creates one named
 * for this test run, and after each test every container cspace made for it
 * is removed, then its directories. Register it before other `afterEach`
 * hooks that must run first (vitest runs them last-registered first): a
 * child process still using a container is killed before the container goes.
 */
export function useFixtureRepos(docker: Docker, runId: string): (name: string, options?: Partial<Omit<FixtureOptions, "projectName">>) => Promise<FixtureRepo> {
  const repos: FixtureRepo[] = [];
  afterEach(async () => {
    for (const repo of repos.splice(0)) {
      await Promise.all((await containersOf(docker, repo)).map((id) => docker.getContainer(id).remove({ force: true })));
      await repo.remove();
    }
  });
  return async (name, options = {}) => {
    const repo = await makeFixtureRepo({ devcontainer: { image: BASE_IMAGE }, ...options, projectName: `${name}-${runId}`.slice(0, 60) });
    repos.push(repo);
    return repo;
  };
}
