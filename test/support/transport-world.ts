import { randomBytes } from "node:crypto";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { expect } from "vitest";
import { DockerRuntime } from "../../src/adapters/docker/containers.ts";
import { createRemoteTransport } from "../../src/adapters/git/transport/remote-transport.ts";
import { runGit } from "../../src/adapters/git/run-git.ts";
import { KEEP_ALIVE, WORKER_CAPABILITIES } from "../../src/core/devcontainer/create-options.ts";
import { checkoutVolumeName, mirrorVolumeName, type CollectLimits, type WorkspaceTransport } from "../../src/core/workspaces/transport.ts";
import { BASE_IMAGE, testDocker, testLabels } from "./docker.ts";

/**
 * A "remote" host for the workspace transport's tests: the local engine,
 * reached only through the ContainerRuntime port (the exec stream is the same
 * on a remote engine), a project store on this machine, and worker containers
 * made as cspace makes them (hardened, running as uid 1000), mounting what
 * the transport says. Everything made carries the run's test label and is
 * removed by `remove()`.
 */

export const WORKER_USER = "1000:1000";
export const WORKSPACE = "/workspaces/project";
const IDENTITY = { "user.name": "Agent", "user.email": "agent@cspace.invalid" };

export interface TransportWorld {
  readonly runtime: DockerRuntime;
  readonly transport: WorkspaceTransport;
  readonly projectId: string;
  /** The project's store on this machine (bare). */
  readonly store: string;
  readonly scratch: string;
  /** A worker container for `instance`, running, its checkout made at `commit` on `branch`: its id, and how long the checkout took. */
  worker(instance: string, branch: string, commit: string): Promise<{ id: string; checkoutMs: number }>;
  /** A shell script in the worker as its user (or root), in the workspace; stdout, failing the test on a non-zero exit. */
  sh(container: string, script: string, user?: string): Promise<string>;
  /** git on this machine in a bare repository (the store, a quarantine). */
  git(repository: string, args: readonly string[]): Promise<string>;
  /** Another transport for the same host and store, with these collect limits. */
  withLimits(limits: Partial<CollectLimits>): WorkspaceTransport;
  /** The instance's quarantine on this machine. */
  quarantineOf(instance: string): string;
  remove(): Promise<void>;
}

/** Makes a store holding `source`'s history (a bare clone), and a transport for it. */
export async function transportWorld(runId: string, source: string, limits?: Partial<CollectLimits>): Promise<TransportWorld> {
  const scratch = await realpath(await mkdtemp(path.join(os.tmpdir(), "cspace-transport-")));
  const store = path.join(scratch, "objects.git");
  await runGit(["clone", "--quiet", "--bare", "--no-local", "--", source, store], { cwd: scratch, timeoutMs: 600_000 });
  const runtime = new DockerRuntime(process.env);
  const projectId = `transport-${runId}-${randomBytes(3).toString("hex")}`;
  const labels = testLabels(runId);
  const scratchDir = path.join(scratch, "cspace");
  const withLimits = (collectLimits?: Partial<CollectLimits>): WorkspaceTransport =>
    createRemoteTransport({ runtime, hostName: "remote-1", projectId, store, scratchDir, keeperImage: BASE_IMAGE, extraLabels: labels, ...(collectLimits === undefined ? {} : { collectLimits }) });
  const transport = withLimits(limits);
  const containers: string[] = [];
  const instances: string[] = [];
  const docker = testDocker();

  const sh = async (container: string, script: string, user = WORKER_USER): Promise<string> => {
    const result = await runtime.exec(container, ["sh", "-c", script], { user, workdir: WORKSPACE, env: { HOME: "/tmp" } });
    expect(result.stderr, `${script}\n${result.stdout}`).not.toMatch(/fatal|error/i);
    expect(result.exitCode, `${script}: ${result.stderr}`).toBe(0);
    return result.stdout;
  };

  return {
    runtime,
    transport,
    projectId,
    store,
    scratch,
    sh,
    withLimits,
    quarantineOf: (instance) => path.join(scratchDir, "quarantine", "remote-1", `${instance}.git`),
    async git(repository, args) {
      return (await runGit(["--git-dir", repository, ...args], { cwd: scratch })).stdout;
    },
    async worker(instance, branch, commit) {
      instances.push(instance);
      const id = await runtime.create({
        name: `${projectId}-${instance}`,
        Image: BASE_IMAGE,
        Env: [],
        Labels: labels,
        WorkingDir: "/",
        Entrypoint: [...KEEP_ALIVE.Entrypoint],
        Cmd: [...KEEP_ALIVE.Cmd],
        HostConfig: {
          Mounts: transport.mountsFor(instance, WORKSPACE),
          CapDrop: ["ALL"],
          CapAdd: [...WORKER_CAPABILITIES],
          SecurityOpt: ["no-new-privileges"],
          NetworkMode: "none",
          PidsLimit: 512,
        },
      });
      containers.push(id);
      await runtime.start(id);
      const start = performance.now();
      await transport.checkout(id, { instance, branch, commit, path: WORKSPACE, user: WORKER_USER, config: IDENTITY });
      return { id, checkoutMs: performance.now() - start };
    },
    async remove() {
      await Promise.all(containers.map((id) => runtime.remove(id)));
      await transport.close();
      for (const instance of instances) await transport.removeInstance(instance);
      await docker.getVolume(mirrorVolumeName(projectId)).remove().catch(() => undefined);
      await rm(scratch, { recursive: true, force: true });
      const left = await docker.listVolumes({ filters: { name: [projectId] } });
      expect(left.Volumes.map((v) => v.Name)).toEqual([]);
    },
  };
}

export { checkoutVolumeName, mirrorVolumeName };
