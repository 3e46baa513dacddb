import { mkdir, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { DockerMount } from "../../../core/devcontainer/create-options.ts";
import { ExternalError } from "../../../core/errors.ts";
import type { ContainerRuntime } from "../../../core/instances/ports.ts";
import { validateInstanceName } from "../../../core/instances/names.ts";
import { assertBranchName } from "../../../core/plan/feature-branch.ts";
import {
  DEFAULT_COLLECT_LIMITS,
  MIRROR_IN_CONTAINER,
  checkoutVolumeName,
  collectRefspec,
  collectedRef,
  formatBytes,
  fsckFailureOf,
  mirrorVolumeName,
  pushRefspecs,
  type CheckoutRequest,
  type Collected,
  type CollectLimits,
  type CollectRequest,
  type RefToPush,
  type WorkspaceTransport,
} from "../../../core/workspaces/transport.ts";
import { exists } from "../../fs/exists.ts";
import { hostConfigFile, localGit } from "../remote/host-git.ts";
import { REMOTE_URL, TransferStopped, gitOverExec, type TransferResult } from "./git-over-exec.ts";
import { MIRROR_IN_KEEPER, keeperLabels, startMirrorKeeper } from "./mirror-keeper.ts";

export interface RemoteTransportOptions {
  readonly runtime: ContainerRuntime;
  /** The host's name in config (`dev.cspace.host`). */
  readonly hostName: string;
  readonly projectId: string;
  /** The project's store on this machine (`GitWorkspaces.storePath`): what is pushed, and the quarantines' alternate. */
  readonly store: string;
  /** A directory of cspace's own on this machine: its git config and the quarantines. */
  readonly scratchDir: string;
  /** An image with git on the host, for the mirror keeper (the workers' image). */
  readonly keeperImage: string;
  readonly collectLimits?: Partial<CollectLimits> | undefined;
  /** Added to the keeper and the volumes (tests mark what they make). */
  readonly extraLabels?: Readonly<Record<string, string>> | undefined;
  /** false for a Kubernetes host: its keeper pod has the cluster's network, as every pod does (mirror-keeper.ts). Default true. */
  readonly keeperWithoutNetwork?: boolean | undefined;
}

/** Pushing the base of a large history to a fresh mirror over a slow link takes minutes; this only stops a hang. */
const PUSH_LIMITS = { maxBytes: Number.MAX_SAFE_INTEGER, stallMs: 10 * 60_000, totalMs: 60 * 60_000 };

/**
 * The workspace transport for a host that shares no filesystem with cspace,
 * through nothing but its ContainerRuntime (create, start, exec, execStream):
 * see core/workspaces/transport.ts for the contract and
 * docs/architecture.md ("The workspace transport") for the why.
 */
export function createRemoteTransport(options: RemoteTransportOptions): WorkspaceTransport {
  return new RemoteTransport(options);
}

class RemoteTransport implements WorkspaceTransport {
  readonly #options: RemoteTransportOptions;
  readonly #limits: CollectLimits;
  #keeper: Promise<string> | undefined;
  /** Collects of one instance run one after another: they share its quarantine. */
  readonly #collecting = new Map<string, Promise<unknown>>();

  constructor(options: RemoteTransportOptions) {
    this.#options = options;
    this.#limits = { ...DEFAULT_COLLECT_LIMITS, ...options.collectLimits };
  }

  async prepareHost(signal?: AbortSignal): Promise<void> {
    signal?.throwIfAborted();
    await this.#keeperId();
  }

  async pushRefs(refs: readonly RefToPush[], signal?: AbortSignal): Promise<void> {
    const refspecs = pushRefspecs(refs);
    if (refspecs.length === 0) return;
    const keeper = await this.#keeperId();
    const { runtime, store, hostName } = this.#options;
    const remote = await runtime.execStream(keeper, ["git", "receive-pack", MIRROR_IN_KEEPER], { user: "0:0", signal });
    const result = await gitOverExec({
      args: ["--git-dir", store, "push", "--quiet", "--no-verify", "--", REMOTE_URL, ...refspecs],
      cwd: store,
      env: await this.#hostEnv(),
      remote,
      limits: PUSH_LIMITS,
      signal,
    }).catch((error: unknown) => {
      if (error instanceof TransferStopped) throw new ExternalError(`pushing to the mirror on host ${hostName} stopped: it ${error.reason === "stalled" ? "stalled" : "took too long"}`, { cause: error });
      throw error;
    });
    if (result.exitCode !== 0) {
      throw new ExternalError(`cannot push ${refs.map((r) => r.name).join(", ")} to the mirror on host ${hostName}: ${said(result)}`, {
        hint: "Check that the host's engine answers (cspace doctor) and has room on its disk; the next launch pushes again.",
      });
    }
  }

  mountsFor(instance: string, workspaceFolder: string): readonly DockerMount[] {
    validateInstanceName(instance);
    const labels = keeperLabels(this.#keeperOptions());
    return [
      { Type: "volume", Source: mirrorVolumeName(this.#options.projectId), Target: MIRROR_IN_CONTAINER, ReadOnly: true, VolumeOptions: { Labels: labels, Shared: true } },
      { Type: "volume", Source: checkoutVolumeName(this.#options.projectId, instance), Target: workspaceFolder, ReadOnly: false, VolumeOptions: { Labels: { ...labels, "dev.cspace.instance": instance } } },
    ];
  }

  async checkout(containerId: string, request: CheckoutRequest, signal?: AbortSignal): Promise<void> {
    const { instance, branch, commit, path: folder, user } = request;
    validateInstanceName(instance);
    assertBranchName(branch, "the worker's branch");
    const { runtime } = this.#options;
    const owner = user.includes(":") ? user : `${user}:`;
    // As root, once: an empty folder the user owns (a fresh volume is root's; a leftover checkout is replaced, as locally),
    // and the mirror trusted by git in the container (it is root's; git 2.39 reads safe.directory only from system or global config).
    const prepared = await runtime.exec(
      containerId,
      [
        "sh",
        "-c",
        'mkdir -p "$1" && find "$1" -mindepth 1 -delete && chown -h "$2" "$1" && { git config --system --get-all safe.directory | grep -qxF "$3" || git config --system --add safe.directory "$3"; }',
        "sh",
        folder,
        owner,
        MIRROR_IN_CONTAINER,
      ],
      { user: "0:0", signal },
    );
    if (prepared.exitCode !== 0) throw new ExternalError(`cannot prepare ${folder} for the checkout of ${instance}: ${(prepared.stderr || prepared.stdout).trim()}`);
    const config = Object.entries(request.config ?? {}).flatMap(([key, value]) => ["-c", `${key}=${value}`]);
    // As the user: the clone borrows the mirror's objects (read-only, never pruned), as a local checkout borrows the store's; origin is the mirror.
    const cloned = await runtime.exec(
      containerId,
      ["sh", "-c", 'dir="$1"; branch="$2"; commit="$3"; shift 3; git clone --quiet --shared --no-checkout "$@" -- "$0" "$dir" && git -C "$dir" checkout --quiet -B "$branch" "$commit"', MIRROR_IN_CONTAINER, folder, branch, commit, ...config],
      { user, signal },
    );
    if (cloned.exitCode !== 0) {
      const why = (cloned.stderr || cloned.stdout).trim();
      throw new ExternalError(`cannot check out ${commit} for ${instance} in its container: ${why}`, {
        hint: /reference is not a tree|did not match|unknown revision|not a commit/i.test(why) ? "The commit is not in the host's mirror: push it first (pushRefs)." : undefined,
      });
    }
  }

  async collect(containerId: string, request: CollectRequest, signal?: AbortSignal): Promise<Collected> {
    validateInstanceName(request.instance);
    const before = this.#collecting.get(request.instance) ?? Promise.resolve();
    const run = before.then(() => this.#collect(containerId, request, signal));
    const settled = run.catch(() => undefined);
    this.#collecting.set(request.instance, settled);
    void settled.then(() => {
      if (this.#collecting.get(request.instance) === settled) this.#collecting.delete(request.instance);
    });
    return run;
  }

  async #collect(containerId: string, request: CollectRequest, signal?: AbortSignal): Promise<Collected> {
    const { instance, branch, path: folder, user } = request;
    const ref = collectedRef(branch);
    const quarantine = await this.#quarantine(instance);
    const { runtime } = this.#options;
    // The container user's own git, reading neither the system's nor the user's config (the agent writes ~/.gitconfig, where
    // uploadpack.packObjectsHook would be honoured); the repository's own config cannot name a hook upload-pack runs.
    const remote = await runtime.execStream(
      containerId,
      ["git", "-c", "core.hooksPath=/dev/null", "upload-pack", "--strict", `--timeout=${String(Math.ceil(this.#limits.stallMs / 1000))}`, path.posix.join(folder, ".git")],
      { user, env: { GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_TERMINAL_PROMPT: "0" }, signal },
    );
    let result: TransferResult;
    try {
      result = await gitOverExec({
        args: [
          "--git-dir",
          quarantine,
          "-c",
          "transfer.fsckObjects=true",
          "-c",
          "fetch.fsckObjects=true",
          // Always a pack of its own, indexed and checked as a whole: a refused transfer leaves only a temporary file, removed below.
          "-c",
          "fetch.unpackLimit=1",
          "-c",
          "fetch.writeCommitGraph=false",
          "fetch",
          "--quiet",
          "--no-tags",
          "--no-write-fetch-head",
          "--no-auto-gc",
          "--no-recurse-submodules",
          "--",
          REMOTE_URL,
          collectRefspec(branch),
        ],
        cwd: quarantine,
        env: await this.#hostEnv(),
        remote,
        limits: this.#limits,
        signal,
      });
    } catch (error) {
      await removeTemporaryPacks(quarantine);
      if (error instanceof TransferStopped) throw this.#stoppedError(instance, branch, error);
      throw error;
    }
    if (result.exitCode !== 0) {
      await removeTemporaryPacks(quarantine);
      throw this.#fetchError(instance, branch, result);
    }
    const sha = (await this.#git(quarantine, ["rev-parse", "--verify", "--end-of-options", `${ref}^{commit}`])).stdout.trim();
    // The name the branch mover fetches (as from a worker snapshot); set by the host, after every check.
    await this.#git(quarantine, ["update-ref", `refs/heads/${branch}`, sha]);
    return { sha, repository: quarantine, ref, bytes: result.bytes };
  }

  async removeInstance(instance: string): Promise<void> {
    validateInstanceName(instance);
    await this.#options.runtime.removeVolume(checkoutVolumeName(this.#options.projectId, instance));
    await rm(this.#quarantinePath(instance), { recursive: true, force: true });
  }

  async close(): Promise<void> {
    const keeper = this.#keeper;
    this.#keeper = undefined;
    if (keeper === undefined) return;
    const id = await keeper.catch(() => null);
    if (id !== null) await this.#options.runtime.remove(id);
  }

  #keeperOptions(): Parameters<typeof startMirrorKeeper>[0] {
    const { runtime, projectId, hostName, keeperImage, extraLabels, keeperWithoutNetwork } = this.#options;
    return { runtime, projectId, hostName, image: keeperImage, extraLabels, withoutNetwork: keeperWithoutNetwork };
  }

  #keeperId(): Promise<string> {
    if (this.#keeper === undefined) {
      const started = startMirrorKeeper(this.#keeperOptions());
      // A failed start is tried again next time rather than remembered.
      started.catch(() => {
        if (this.#keeper === started) this.#keeper = undefined;
      });
      this.#keeper = started;
    }
    return this.#keeper;
  }

  #quarantinePath(instance: string): string {
    return path.join(this.#options.scratchDir, "quarantine", this.#options.hostName, `${instance}.git`);
  }

  /**
   * The instance's quarantine: a bare repository of cspace's own whose only
   * alternate is the store, so a collect transfers only what neither holds
   * (the worker's first collect sends its new commits; the next one only
   * what came after). Kept between collects; removed with the instance.
   */
  async #quarantine(instance: string): Promise<string> {
    const dir = this.#quarantinePath(instance);
    if (await exists(path.join(dir, "HEAD"))) return dir;
    await mkdir(path.dirname(dir), { recursive: true });
    await this.#git(path.dirname(dir), ["init", "--quiet", "--bare", dir]);
    await this.#git(dir, ["config", "gc.auto", "0"]);
    await writeFile(path.join(dir, "objects", "info", "alternates"), `${path.join(this.#options.store, "objects")}\n`);
    return dir;
  }

  async #hostEnv(): Promise<Record<string, string>> {
    return { GIT_CONFIG_GLOBAL: await hostConfigFile(this.#options.scratchDir), GIT_CONFIG_NOSYSTEM: "1" };
  }

  /** Git in one of cspace's own bare repositories on this machine (the quarantines), or in its folder to make one. */
  async #git(repository: string, args: readonly string[]): Promise<{ stdout: string }> {
    const config = await hostConfigFile(this.#options.scratchDir);
    const inside = await exists(path.join(repository, "HEAD"));
    return localGit(config, inside ? repository : process.cwd(), inside ? ["--git-dir", repository, ...args] : args);
  }

  #stoppedError(instance: string, branch: string, stopped: TransferStopped): ExternalError {
    const limits = this.#limits;
    switch (stopped.reason) {
      case "too-large":
        return new ExternalError(`refused ${branch} from ${instance}: the worker sent more than ${formatBytes(limits.maxBytes)}, the cap on what one collect may bring; nothing was kept`, {
          hint: "If the branch really is that large, raise the cap (the transport's collect maxBytes); otherwise look at what the agent committed (large build outputs, a vendored tree).",
          cause: stopped,
        });
      case "stalled":
        return new ExternalError(`gave up collecting ${branch} from ${instance}: the worker sent nothing for ${seconds(limits.stallMs)} (after ${formatBytes(stopped.bytes)}); nothing was kept`, {
          hint: "Check the worker and its host answer (cspace doctor); collect again, or raise the stall limit for a slow link.",
          cause: stopped,
        });
      case "timed-out":
        return new ExternalError(`gave up collecting ${branch} from ${instance}: it took more than ${seconds(limits.totalMs)} (${formatBytes(stopped.bytes)} received); nothing was kept`, {
          hint: "A worker that sends slowly without end is stopped here; raise the total limit only for a large branch over a slow link.",
          cause: stopped,
        });
    }
  }

  #fetchError(instance: string, branch: string, result: TransferResult): ExternalError {
    const stderr = `${result.stderr}\n${result.remoteStderr}`;
    if (/couldn't find remote ref/i.test(stderr)) {
      return new ExternalError(`the worker ${instance} has no branch ${branch}: there is nothing to collect`, {
        hint: `The agent must commit on ${branch}; see its branches with \`cspace exec ${instance} -- git branch -a\`.`,
      });
    }
    const fsck = fsckFailureOf(result.stderr);
    if (fsck !== null) {
      return new ExternalError(`refused ${branch} from ${instance}: object ${fsck.object} is malformed (${fsck.problem}); nothing was kept`, {
        hint: "Git itself never writes such an object: the agent wrote it by hand. Reset the branch in the worker to a sound commit, or warm the instance again.",
      });
    }
    return new ExternalError(`cannot collect ${branch} from ${instance}: ${said(result)}`, {
      hint: "The worker's git answered in a way git does not: check the worker (cspace exec) or warm it again.",
    });
  }
}

/** What index-pack leaves when it is killed or refuses a pack: `objects/pack/tmp_*` (and `.keep` files of an interrupted fetch). */
async function removeTemporaryPacks(repository: string): Promise<void> {
  const pack = path.join(repository, "objects", "pack");
  const names = await readdir(pack).catch(() => [] as string[]);
  await Promise.all(names.filter((name) => name.startsWith("tmp_")).map((name) => rm(path.join(pack, name), { force: true })));
}

function said(result: TransferResult): string {
  const text = (result.stderr.trim() || result.remoteStderr.trim() || `git exited with ${String(result.exitCode)}`).split("\n").slice(-5).join("\n");
  return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
}

function seconds(ms: number): string {
  return `${String(Math.round(ms / 1000))} s`;
}
