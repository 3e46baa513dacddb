import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DockerRuntime } from "../../src/adapters/docker/containers.ts";
import { workerBundleFiles } from "../../src/adapters/worker-bundle.ts";
import type { RelayState } from "../../src/adapters/messaging/relay/open-relay.ts";
import type { ContainerRuntime, ExecOptions, ExecStream } from "../../src/core/instances/ports.ts";
import { BASE_IMAGE, testDocker, testLabels } from "./docker.ts";

/**
 * A worker container as a remote host has it: the worker bundle copied in,
 * its instance directory /run/cspace and its workspace inside the container
 * (no bind mount of anything on the host), so the only way between the host
 * and its sockets is the relay over an exec. The relay's host directory is a
 * fresh private temporary directory the container never sees.
 */

export const CONTAINER_USER = "1000:1000";
const USER_ENV = { HOME: "/work" };

export interface RelayWorker {
  readonly id: string;
  readonly runtime: DockerRuntime;
  /** execStream only when the test allows it: the outage of a relay lasts until the test says so. */
  readonly gated: GatedRuntime;
  /** The host's side of the instance directory (0700), where openRelay serves w.sock and dials c.sock. */
  readonly hostDir: string;
  /** Runs a script in the container (as the container user unless `root`); its stdout, failing on a non-zero exit. */
  sh(script: string, options?: { readonly root?: boolean; readonly env?: Readonly<Record<string, string>> }): Promise<string>;
  /** Pids of relay processes running in the container (read from its /proc: the image has no ps). */
  relayPids(): Promise<number[]>;
  /** Writes launch.json and prompt.md into /run/cspace and starts the supervisor with the scripted agent. */
  startSupervisor(prompt: string): Promise<void>;
  remove(): Promise<void>;
}

/** `mountInstanceDir`: only for comparing with the direct socket (the bench): /run/cspace is that host directory. */
export async function relayWorker(runId: string, name: string, options: { readonly mountInstanceDir?: string } = {}): Promise<RelayWorker> {
  const docker = testDocker();
  const runtime = new DockerRuntime(process.env);
  const binds = options.mountInstanceDir === undefined ? {} : { HostConfig: { Binds: [`${options.mountInstanceDir}:/run/cspace`] } };
  const created = await docker.createContainer({ Image: BASE_IMAGE, Cmd: ["sleep", "infinity"], Labels: testLabels(runId, `${name}-${runId}`), ...binds });
  const id = created.id;
  const hostDir = await mkdtemp(path.join(os.tmpdir(), "cspace-relay-"));
  const remove = async (): Promise<void> => {
    await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
    await rm(hostDir, { recursive: true, force: true });
  };
  try {
    await created.start();
    await runtime.copyIn(id, await workerBundleFiles());
    const sh = async (script: string, options: { readonly root?: boolean; readonly env?: Readonly<Record<string, string>> } = {}): Promise<string> => {
      const execOptions: ExecOptions = options.root === true ? { env: { ...options.env } } : { user: CONTAINER_USER, env: { ...USER_ENV, ...options.env } };
      const outcome = await runtime.exec(id, ["sh", "-c", script], execOptions);
      if (outcome.exitCode !== 0) throw new Error(`${script.slice(0, 200)} exited ${String(outcome.exitCode)}: ${outcome.stderr}`);
      return outcome.stdout;
    };
    await sh("mkdir -p /run/cspace /work && chown 1000:1000 /run/cspace /work && chmod 700 /run/cspace", { root: true });
    await sh("cd /work && git init -q -b issue-1 && git -c user.name=t -c user.email=t@example.invalid commit -q --allow-empty -m base");
    const relayPids = async (): Promise<number[]> => {
      const out = await sh(`for p in /proc/[0-9]*; do if { tr '\\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -q '^node /opt/cspace/worker.cjs relay'; then echo "\${p#/proc/}"; fi; done`, { root: true });
      return out.split("\n").filter((line) => line !== "").map(Number);
    };
    return {
      id,
      runtime,
      gated: new GatedRuntime(runtime),
      hostDir,
      sh,
      relayPids,
      async startSupervisor(prompt) {
        const launch = {
          v: 1, instance: "issue-1", preset: "scripted", command: null, commandInput: "per-message", model: null,
          branch: "issue-1", base: "main", baseSha: null, workdir: "/work", promptFile: "/run/cspace/prompt.md",
          resumeSessionId: null, restartReason: null, resumedCostUsd: null, eventsMaxBytes: 1048576, stopGraceMs: 2000, reportRetryMaxMs: 1000,
        };
        await sh(`printf '%s' "$LAUNCH" > /run/cspace/launch.json && printf '%s' "$PROMPT" > /run/cspace/prompt.md`, { env: { LAUNCH: JSON.stringify(launch), PROMPT: prompt } });
        await runtime.execDetached(id, ["node", "/opt/cspace/worker.cjs", "supervise", "/run/cspace"], { user: CONTAINER_USER, env: USER_ENV });
      },
      remove,
    };
  } catch (error) {
    await remove();
    throw error;
  }
}

/**
 * The engine's execStream, let through one call per `allow()`: a test decides
 * when a lost relay may come back, so "during the outage" is a state, not a time.
 */
export class GatedRuntime implements Pick<ContainerRuntime, "execStream"> {
  readonly streams: ExecStream[] = [];
  readonly #inner: ContainerRuntime;
  #permits = 0;
  #waiting: (() => void)[] = [];

  constructor(inner: ContainerRuntime) {
    this.#inner = inner;
  }

  allow(count = 1): void {
    this.#permits += count;
    while (this.#permits > 0 && this.#waiting.length > 0) {
      this.#permits -= 1;
      this.#waiting.shift()?.();
    }
  }

  /** An exec waits for a permit. */
  async execStream(id: string, command: readonly string[], options?: ExecOptions): Promise<ExecStream> {
    if (this.#permits > 0) this.#permits -= 1;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    const stream = await this.#inner.execStream(id, command, options);
    this.streams.push(stream);
    return stream;
  }
}

/** Resolves when the relay reaches `state` (at once if it is there). */
export function stateWatcher(): { onStateChange: (state: RelayState) => void; reach: (state: RelayState) => Promise<void> } {
  let current: RelayState = "connecting";
  const waiting: { state: RelayState; resolve: () => void }[] = [];
  return {
    onStateChange(state) {
      current = state;
      for (const waiter of waiting.filter((w) => w.state === state)) {
        waiting.splice(waiting.indexOf(waiter), 1);
        waiter.resolve();
      }
    },
    reach: (state) => (current === state ? Promise.resolve() : new Promise((resolve) => waiting.push({ state, resolve }))),
  };
}

