import { randomBytes } from "node:crypto";
import type { TestProject } from "vitest/node";
import { connectDocker, dockerEndpoint, engineVersion, findImage } from "../../src/adapters/docker/engine.ts";
import { BASE_IMAGE, listLabelled, removeLabelled, testDocker } from "../support/docker.ts";

/**
 * The docker lane runs against the real engine or not at all: with no engine,
 * or without the base image, it stops before any test with the one command
 * that fixes it. Afterwards it removes whatever this run labelled.
 */

const PREPARE = "run `bash scripts/prepare-machine.sh` (it installs and starts the engine and builds the image offline)";

let runId: string | undefined;

export async function setup(project: TestProject): Promise<void> {
  const endpoint = dockerEndpoint(process.env);
  const docker = connectDocker(endpoint, { timeoutMs: 5_000 });
  try {
    await engineVersion(docker, endpoint, 5_000);
  } catch (error) {
    throw new Error(`The docker lane needs a Docker engine. ${messageOf(error)}. To fix: ${PREPARE}.`, { cause: error });
  }
  if ((await findImage(docker, BASE_IMAGE, 5_000)) === null) {
    throw new Error(`The docker lane needs the image ${BASE_IMAGE}, which the engine at ${endpoint.url} does not have. To fix: ${PREPARE}.`);
  }
  runId = `${Date.now().toString(36)}-${randomBytes(3).toString("hex")}`;
  project.provide("cspaceTestRun", runId);
}

export async function teardown(): Promise<void> {
  if (runId === undefined) return;
  const docker = testDocker();
  await removeLabelled(docker, runId);
  const left = await listLabelled(docker, runId);
  if (left.containers.length > 0 || left.images.length > 0) {
    throw new Error(
      `docker lane teardown: still labelled dev.cspace.test=${runId} after removal: ` +
        `containers ${left.containers.join(", ") || "none"}; images ${left.images.join(", ") || "none"}`,
    );
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
