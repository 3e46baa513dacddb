import type Docker from "dockerode";
import { connectDocker, dockerEndpoint } from "../../src/adapters/docker/engine.ts";

/**
 * The docker lane's access to the real engine. Everything a test creates
 * carries `dev.cspace.test=<runId>`, so the lane's teardown can remove it all
 * (and prove nothing was left behind) without touching anything else.
 */

export const TEST_LABEL = "dev.cspace.test";
export const PROJECT_LABEL = "dev.cspace.project";
export const BASE_IMAGE = "cspace-base:bookworm";

declare module "vitest" {
  export interface ProvidedContext {
    /** This test run's id: the value of the dev.cspace.test label. */
    cspaceTestRun: string;
  }
}

/** A client for the engine DOCKER_HOST names (the default socket when unset). */
export function testDocker(env: NodeJS.ProcessEnv = process.env): Docker {
  return connectDocker(dockerEndpoint(env));
}

/** Labels for something a test creates: this run's label, and a project when given. */
export function testLabels(runId: string, project?: string): Record<string, string> {
  return { [TEST_LABEL]: runId, ...(project === undefined ? {} : { [PROJECT_LABEL]: project }) };
}

/** A `filters` value selecting what carries this run's label. */
export function labelFilter(runId: string): { label: string[] } {
  return { label: [`${TEST_LABEL}=${runId}`] };
}

export interface Labelled {
  readonly containers: readonly string[];
  readonly images: readonly string[];
}

/** Ids of every container (running or not) and image carrying this run's label, images newest first. */
export async function listLabelled(docker: Docker, runId: string): Promise<Labelled> {
  const [containers, images] = await Promise.all([
    docker.listContainers({ all: true, filters: labelFilter(runId) }),
    docker.listImages({ all: true, filters: labelFilter(runId) }),
  ]);
  return { containers: containers.map((c) => c.Id), images: images.map((i) => i.Id) };
}

/** Removes (forcibly) every container, then every image, that carries this run's label. */
export async function removeLabelled(docker: Docker, runId: string): Promise<Labelled> {
  const found = await listLabelled(docker, runId);
  await Promise.all(found.containers.map((id) => docker.getContainer(id).remove({ force: true, v: true }).catch(ignoreMissing)));
  for (const id of await childrenFirst(docker, found.images)) {
    await docker.getImage(id).remove({ force: true }).catch(ignoreMissing);
  }
  return found;
}

/**
 * The images and everything built on them, each child before its parent: the
 * engine refuses to remove an image that has children, even forced. Creation
 * times have one-second resolution, so they cannot give this order; the
 * parent links can.
 */
async function childrenFirst(docker: Docker, roots: readonly string[]): Promise<string[]> {
  const children = new Map<string, string[]>();
  for (const image of await docker.listImages({ all: true })) {
    if (image.ParentId !== "") children.set(image.ParentId, [...(children.get(image.ParentId) ?? []), image.Id]);
  }
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string): void => {
    if (seen.has(id)) return;
    seen.add(id);
    for (const child of children.get(id) ?? []) visit(child);
    order.push(id);
  };
  for (const id of roots) visit(id);
  return order;
}

/** Whether a container with this id still exists. */
export async function containerExists(docker: Docker, id: string): Promise<boolean> {
  try {
    await docker.getContainer(id).inspect();
    return true;
  } catch (error) {
    ignoreMissing(error);
    return false;
  }
}

/** Swallows "no such container/image" (already gone is what we wanted); rethrows anything else. */
function ignoreMissing(error: unknown): void {
  if (typeof error === "object" && error !== null && "statusCode" in error && error.statusCode === 404) return;
  throw error;
}
