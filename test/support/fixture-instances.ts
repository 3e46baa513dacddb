import { readdir } from "node:fs/promises";
import path from "node:path";
import type Docker from "dockerode";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import type { FixtureRepo } from "./fixture-repo.ts";

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
