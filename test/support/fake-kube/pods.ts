import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readdirSync, readlinkSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { PodContainer, PodManifest } from "../../../src/adapters/kubernetes/pod-types.ts";

/** Runs a pod whose spec names no command: the fake has no image to take an entrypoint from. */
const IDLE = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while sleep 3600 & wait $!; do :; done"];
const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

/** A claim's directory on this machine, mounted in the pod at `target`. */
export interface PodMount {
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

/**
 * How a pod that mounts claims is started, as root, in a mount namespace of
 * its own (`unshare --mount`): a root directory of the pod's own whose
 * top-level entries are this machine's, the shared ones (/proc, /sys, /dev,
 * /tmp and the fake's own directory) bound as they are, /run an empty tmpfs
 * of its own, and every other directory an overlay whose writes stay the
 * pod's (as a container's writes to /etc stay its own); then each claim's directory bound at its mountPath,
 * read-only when the pod says so, and the command run chrooted there (ready,
 * on fd 3, only once it is: execs join it with nsenter through its
 * /proc/<pid>/root and cwd).
 */
const NAMESPACE_SCRIPT = [
  "set -e",
  'root=$1 layers=$2 shared=$3 cwd=$4 count=$5; shift 5',
  'mkdir -p "$root"',
  'for entry in /*; do',
  '  name=${entry#/}',
  '  if [ -L "$entry" ]; then ln -s "$(readlink "$entry")" "$root/$name"',
  '  elif [ -d "$entry" ]; then',
  '    mkdir -p "$root/$name"',
  // A container's /run is its own: the instance directory a worker makes there (/run/cspace) must not be this machine's or another pod's.
  '    if [ "$name" = run ]; then mount -t tmpfs -o mode=0755 tmpfs "$root/run"; continue; fi',
  '    case " $shared " in',
  '      *" $name "*) mount --rbind "$entry" "$root/$name" ;;',
  '      *) mkdir -p "$layers/$name/upper" "$layers/$name/work"; mount -t overlay overlay -o "lowerdir=$entry,upperdir=$layers/$name/upper,workdir=$layers/$name/work" "$root/$name" ;;',
  '    esac',
  '  fi',
  'done',
  'while [ "$count" -gt 0 ]; do',
  '  mkdir -p "$root$2"',
  '  mount --bind "$1" "$root$2"',
  '  if [ "$3" = ro ]; then mount -o remount,bind,ro "$root$2"; fi',
  '  shift 3; count=$((count - 1))',
  'done',
  // Ready only once chrooted: an exec joins through /proc/<pid>/root and cwd, which must be the pod's by then.
  'exec chroot "$root" /bin/sh -c \'cd -- "$0" 2>/dev/null || cd /; echo ready >&3; exec 3>&-; exec "$@"\' "$cwd" "$@"',
].join("\n");
const SHARED_TOP = ["proc", "sys", "dev", "tmp"];

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
  /** The claims it mounts: with any, it runs in a mount namespace of its own (NAMESPACE_SCRIPT). */
  readonly mounts: readonly PodMount[];
  #main: ChildProcess | null = null;

  constructor(manifest: PodManifest, dir: string, mounts: readonly PodMount[] = []) {
    this.manifest = manifest;
    this.dir = dir;
    this.mounts = mounts;
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

  /** Starts the container's main process; `onExit` hears its exit code. Resolves once it runs (in its mount namespace, when it has one). */
  async start(onExit: (code: number) => void): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const argv = [...(this.container.command ?? IDLE), ...(this.container.args ?? [])];
    if (argv.length === 0) throw new Error(`pod ${this.name} has an empty command`);
    const [file = "", ...args] = this.mounts.length === 0 ? argv : this.#inNamespace(argv);
    const child = spawn(file, args, {
      cwd: this.cwd(),
      env: this.env(),
      ...(this.mounts.length === 0 ? this.ids() : {}),
      detached: true,
      stdio: this.mounts.length === 0 ? ["ignore", "pipe", "pipe"] : ["ignore", "pipe", "pipe", "pipe"],
    });
    this.#main = child;
    const ready = this.mounts.length === 0 ? Promise.resolve() : readyOnFd3(child, this.name);
    const keep = (chunk: Buffer): void => {
      this.log.push({ at: Date.now(), chunk });
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    child.on("error", () => {
      onExit(127);
    });
    child.on("exit", (code, signal) => {
      this.#main = null;
      onExit(code ?? (signal === null ? 1 : 128 + 9));
    });
    await ready;
  }

  /** The argv that sets up the pod's mount namespace and runs `argv` in it (as the pod's user, dropped to with setpriv). */
  #inNamespace(argv: readonly string[]): string[] {
    const { uid, gid } = this.ids();
    const drop = uid === undefined && gid === undefined ? [] : ["setpriv", `--reuid=${String(uid ?? 0)}`, `--regid=${String(gid ?? 0)}`, "--clear-groups", "--"];
    const shared = [...SHARED_TOP, topLevel(this.dir)].join(" ");
    const mounts = this.mounts.flatMap((m) => [m.source, m.target, m.readOnly ? "ro" : "rw"]);
    return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", NAMESPACE_SCRIPT, "fake-pod", path.join(this.dir, "root"), path.join(this.dir, "layers"), shared, this.cwd(), String(this.mounts.length), ...mounts, ...drop, ...argv];
  }

  /** A command in the container, as the kubelet's exec starts one (in the pod's mount namespace and root, when it has them). */
  exec(argv: readonly string[], stdin: boolean): ChildProcess {
    if (argv.length === 0) throw new Error("an exec needs a command");
    const [file = "", ...args] = this.mounts.length === 0 ? argv : this.#joining(argv);
    const child = spawn(file, args, { cwd: this.cwd(), env: this.env(), ...(this.mounts.length === 0 ? this.ids() : {}), detached: true, stdio: [stdin ? "pipe" : "ignore", "pipe", "pipe"] });
    this.execs.add(child);
    child.on("close", () => this.execs.delete(child));
    return child;
  }

  /** nsenter into the main process's mount namespace, root and working directory (a host path would be outside the root); then the exec's own, set inside. */
  #joining(argv: readonly string[]): string[] {
    const pid = this.#main?.pid;
    if (pid === undefined) throw new Error(`container worker in pod ${this.name} is not running`);
    const { uid, gid } = this.ids();
    const ids = [...(uid === undefined ? [] : [`--setuid=${String(uid)}`]), ...(gid === undefined ? [] : [`--setgid=${String(gid)}`])];
    return ["nsenter", `--target=${String(pid)}`, "--mount", "--root", "--wd", ...ids, "--", "/bin/sh", "-c", 'cd -- "$0" 2>/dev/null || cd /; exec "$@"', this.cwd(), ...argv];
  }

  /** Ends the container's main process (as its own crash or an OOM kill would): the pod is then Failed. */
  killMain(): void {
    killGroup(this.#main);
  }

  /**
   * Ends everything the pod runs: its deletion. With a mount namespace of its
   * own, that is every process in it, as a container's removal ends all of
   * its processes: one an exec left running in a session of its own (the
   * supervisor, started detached) is in no group the fake started.
   */
  stop(): void {
    const namespace = this.#main?.pid === undefined || this.mounts.length === 0 ? null : mountNamespaceOf(this.#main.pid);
    killGroup(this.#main);
    for (const child of this.execs) killGroup(child);
    if (namespace !== null) {
      for (const pid of readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).map(Number)) {
        if (mountNamespaceOf(pid) !== namespace) continue;
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
    }
  }
}

/** The mount namespace a process is in (`mnt:[…]`), null when it is gone. */
function mountNamespaceOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${String(pid)}/ns/mnt`);
  } catch {
    return null;
  }
}

/** The first path component of an absolute path: its top-level directory. */
function topLevel(dir: string): string {
  return path.resolve(dir).split(path.sep)[1] ?? "";
}

/** Resolves when the namespace script says it is ready on fd 3; rejects when the process ends first. */
function readyOnFd3(child: ChildProcess, pod: string): Promise<void> {
  const channel = child.stdio[3];
  const errors: Buffer[] = [];
  child.stderr?.on("data", (chunk: Buffer) => errors.push(chunk));
  return new Promise((resolve, reject) => {
    if (channel === null || channel === undefined || !("on" in channel)) {
      reject(new Error(`pod ${pod}: no readiness channel`));
      return;
    }
    channel.on("data", () => {
      resolve();
    });
    channel.on("error", () => undefined);
    child.on("exit", () => {
      reject(new Error(`pod ${pod}: its mount namespace was not set up: ${Buffer.concat(errors).toString("utf8").trim()}`));
    });
  });
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

/** A pod's own directory: one per pod made, so a pod made again under a name gets a fresh root, as a new container does. */
export function podDir(root: string, name: string, uid: string): string {
  return path.join(root, "pods", `${name.slice(0, 200)}-${uid.slice(0, 8)}`);
}
