import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { PodContainer, PodManifest } from "../../../src/adapters/kubernetes/pod-types.ts";

/** Runs a pod whose spec names no command: the fake has no image to take an entrypoint from. */
const IDLE = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while sleep 3600 & wait $!; do :; done"];
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

/**
 * A pod of the fake API server: its container is a process group on this
 * machine (the test's own), started from the pod's command with its env,
 * working directory (the pod's own directory when the host has no such
 * path) and runAsUser. Its image is recorded, not run: the host's programs
 * stand in for the image's. Execs are processes started the same way; they
 * end with the pod, as a container's do.
 */
export class FakePod {
  manifest: PodManifest;
  readonly dir: string;
  readonly log: { readonly at: number; readonly chunk: Buffer }[] = [];
  readonly execs = new Set<ChildProcess>();
  #main: ChildProcess | null = null;

  constructor(manifest: PodManifest, dir: string) {
    this.manifest = manifest;
    this.dir = dir;
  }

  get name(): string {
    return this.manifest.metadata?.name ?? "";
  }

  get container(): PodContainer {
    const container = this.manifest.spec?.containers[0];
    if (container === undefined) throw new Error(`pod ${this.name} has no container`);
    return container;
  }

  /** The process environment of the container: its env, and what a container runtime adds. */
  env(): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { PATH: DEFAULT_PATH, HOSTNAME: this.name, HOME: "/root" };
    for (const variable of this.container.env ?? []) env[variable.name] = variable.value ?? "";
    return env;
  }

  cwd(): string {
    const wanted = this.container.workingDir;
    return wanted !== undefined && existsSync(wanted) ? wanted : this.dir;
  }

  ids(): { uid?: number; gid?: number } {
    const context = this.container.securityContext;
    return {
      ...(context?.runAsUser === undefined ? {} : { uid: context.runAsUser }),
      ...(context?.runAsGroup === undefined ? {} : { gid: context.runAsGroup }),
    };
  }

  /** Starts the container's main process; `onExit` hears its exit code. */
  async start(onExit: (code: number) => void): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const argv = [...(this.container.command ?? IDLE), ...(this.container.args ?? [])];
    const [file, ...args] = argv;
    if (file === undefined) throw new Error(`pod ${this.name} has an empty command`);
    const child = spawn(file, args, { cwd: this.cwd(), env: this.env(), ...this.ids(), detached: true, stdio: ["ignore", "pipe", "pipe"] });
    this.#main = child;
    const keep = (chunk: Buffer): void => {
      this.log.push({ at: Date.now(), chunk });
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("error", () => {
      onExit(127);
    });
    child.on("exit", (code, signal) => {
      this.#main = null;
      onExit(code ?? (signal === null ? 1 : 128 + 9));
    });
  }

  /** A command in the container, as the kubelet's exec starts one. */
  exec(argv: readonly string[], stdin: boolean): ChildProcess {
    const [file, ...args] = argv;
    if (file === undefined) throw new Error("an exec needs a command");
    const child = spawn(file, args, { cwd: this.cwd(), env: this.env(), ...this.ids(), detached: true, stdio: [stdin ? "pipe" : "ignore", "pipe", "pipe"] });
    this.execs.add(child);
    child.on("close", () => this.execs.delete(child));
    return child;
  }

  /** Ends the container's main process (as its own crash or an OOM kill would): the pod is then Failed. */
  killMain(): void {
    killGroup(this.#main);
  }

  /** Ends everything the pod runs: its deletion. */
  stop(): void {
    killGroup(this.#main);
    for (const child of this.execs) killGroup(child);
  }
}

function killGroup(child: ChildProcess | null): void {
  if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

export function newPodIdentity(): { uid: string; creationTimestamp: string } {
  return { uid: randomUUID(), creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, "Z") };
}

export function podDir(root: string, name: string): string {
  return path.join(root, "pods", name);
}
