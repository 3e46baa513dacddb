import { mkdir } from "node:fs/promises";
import path from "node:path";
import { expect, inject } from "vitest";
import { DockerRuntime } from "../../src/adapters/docker/containers.ts";
import { workerBundleFiles } from "../../src/adapters/worker-bundle.ts";
import { BASE_IMAGE, testDocker, testLabels } from "../support/docker.ts";
import { tempDir } from "../support/git-fixtures.ts";

/**
 * A worker container as a remote engine gives one: the worker bundle copied
 * in, /run/cspace made inside it for the container user (uid 1000) and NOT
 * bind-mounted from the host, so the host reaches it only through the
 * engine's API. The host's copy is `<run dir>/issue-1/` in a temporary run
 * directory. Everything is labelled for the lane's teardown and removed by
 * `remove()`.
 */

export const runId = inject("cspaceTestRun");
export const docker = testDocker();
export const USER = "1000:1000";

export interface MirrorContainer {
  readonly id: string;
  readonly runtime: DockerRuntime;
  readonly runDir: string;
  readonly hostDir: string;
  /** Runs a shell script in the container (as the container user unless told); its stdout, the exit code must be 0. */
  sh(script: string, user?: string): Promise<string>;
  /** How many `worker.cjs mirror` processes run in the container (its /proc). */
  mirrors(): Promise<number>;
  remove(): Promise<void>;
}

export async function mirrorContainer(name: string): Promise<MirrorContainer> {
  const created = await docker.createContainer({ Image: BASE_IMAGE, Cmd: ["sleep", "infinity"], Labels: testLabels(runId, `${name}-${runId}`) });
  const id = created.id;
  const temp = await tempDir("cspace-mirror-");
  const runDir = temp.dir;
  const remove = async (): Promise<void> => {
    await docker.getContainer(id).remove({ force: true, v: true });
    await temp.remove();
  };
  try {
    await created.start();
    const runtime = new DockerRuntime(process.env);
    await runtime.copyIn(id, await workerBundleFiles());
    const sh = async (script: string, user = USER): Promise<string> => {
      const result = await runtime.exec(id, ["/bin/sh", "-c", script], { user });
      expect(result.stderr).toBe("");
      expect(result.exitCode).toBe(0);
      return result.stdout;
    };
    await sh("mkdir -p /run/cspace && chown 1000:1000 /run/cspace && chmod 0700 /run/cspace", "0");
    const hostDir = path.join(runDir, "issue-1");
    await mkdir(hostDir, { mode: 0o700 });
    const mirrors = async (): Promise<number> =>
      Number((await sh(`n=0; for p in /proc/[0-9]*; do { tr '\\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -q '^node /opt/cspace/worker[.]cjs mirror' && n=$((n+1)); done; echo $n`, "0")).trim());
    return { id, runtime, runDir, hostDir, sh, mirrors, remove };
  } catch (error) {
    await remove();
    throw error;
  }
}
