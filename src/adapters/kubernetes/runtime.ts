import { PassThrough, Writable } from "node:stream";
import type { V1PersistentVolumeClaim, V1PersistentVolumeClaimList, V1Pod, V1Status } from "@kubernetes/client-node";
import type { ContainerCreateSpec } from "../../core/devcontainer/create-options.ts";
import { ExternalError, UserError } from "../../core/errors.ts";
import type {
  ContainerDetails,
  ContainerInfo,
  ContainerRuntime,
  EngineInfo,
  ExecOptions,
  ExecOutcome,
  ExecStream,
  FileToCopy,
  ImageBuild,
  ImageInfo,
  NetworkCreateSpec,
  NetworkInfo,
  Terminal,
  VolumeInfo,
} from "../../core/instances/ports.ts";
import { loadKubeClient, type KubeClient, type KubernetesHostOptions } from "./client.ts";
import { kubeError, statusOf } from "./errors.ts";
import { exitCodeOf, runPodExec } from "./pod-exec.ts";
import { detachedCommand, wrappedCommand } from "./exec-command.ts";
import { labelSelector, podNameFor } from "./labels.ts";
import { CONTAINER_NAME, detailsOf, infoOf, podFor, stuckReason, USER_ANNOTATION } from "./pod-spec.ts";
import { watchStoppedPods, type PodWatchSource } from "./pod-watch.ts";
import type { ClaimManifest } from "./pod-types.ts";
import { claimNameFor, claimsOf, volumeOf, VOLUME_ANNOTATION } from "./volume-claims.ts";

/** Output kept per stream of an exec, as the Docker adapter keeps. */
const KEEP_BYTES = 256 * 1024;
/** How long start() waits for a pod to be scheduled and its image pulled. */
const START_TIMEOUT_MS = 10 * 60_000;

/**
 * The ContainerRuntime port on Kubernetes: a pod per container, in one
 * namespace of one context. Constructing it reads nothing; the client and the
 * kubeconfig are loaded on the first operation. What Kubernetes does
 * differently (images, networks) is said per method.
 */
export class KubernetesRuntime implements ContainerRuntime {
  readonly endpoint: string;
  readonly #options: KubernetesHostOptions;
  #client: Promise<KubeClient> | undefined;
  /** The user each pod's commands run as when none is named (Docker's container user), by pod. */
  readonly #users = new Map<string, string | undefined>();

  constructor(options: KubernetesHostOptions) {
    this.#options = options;
    this.endpoint = `kubernetes://${options.context ?? "(current context)"}/${options.namespace}`;
  }

  #kube(): Promise<KubeClient> {
    this.#client ??= loadKubeClient(this.#options);
    // A failed load (no kubeconfig) is not kept: the user may fix it and the next call tries again.
    this.#client.catch(() => {
      this.#client = undefined;
    });
    return this.#client;
  }

  async ping(): Promise<void> {
    await this.engineInfo();
  }

  async engineInfo(): Promise<EngineInfo> {
    const kube = await this.#kube();
    try {
      const info = await kube.version.getCode();
      return { version: info.gitVersion, apiVersion: "v1" };
    } catch (error) {
      throw kubeError(kube.target, "ask the API server its version", "get", "/version", error);
    }
  }

  /** A cluster pulls images itself, on each node, when a pod needs one: nothing here can say whether it will find it. */
  imageInfo(reference: string): Promise<ImageInfo | null> {
    return Promise.resolve({ id: reference, sizeBytes: 0 });
  }

  /** Always true (see imageInfo): an image the cluster cannot pull fails start() with the kubelet's reason. */
  hasImage(): Promise<boolean> {
    return Promise.resolve(true);
  }

  /** The kubelet pulls on start. */
  pullImage(): Promise<void> {
    return Promise.resolve();
  }

  buildImage(build: ImageBuild): Promise<void> {
    return Promise.reject(
      new UserError(`host ${this.#options.name} is a Kubernetes cluster, which cannot build the image ${build.tag} from ${build.dockerfile}`, {
        hint: 'Build the image yourself, push it to a registry the cluster pulls from, and name it in devcontainer.json "image".',
      }),
    );
  }

  async create(spec: ContainerCreateSpec): Promise<string> {
    const kube = await this.#kube();
    const pod = podFor(spec, kube.target.namespace);
    // A Docker engine makes a named volume on first use; here the pod would wait for a claim nobody makes.
    for (const claim of claimsOf(spec, { namespace: kube.target.namespace, sharedStorageClass: this.#options.sharedStorageClass })) await this.#ensureClaim(kube, claim, spec.name);
    try {
      // The API takes the Pod's JSON: client-node serialises any object of V1Pod's shape, not only its class's instances.
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment
      const made = await kube.core.createNamespacedPod({ namespace: kube.target.namespace, body: pod as V1Pod });
      const id = made.metadata?.name ?? podNameFor(spec.name);
      this.#users.set(id, spec.User);
      return id;
    } catch (error) {
      throw kubeError(kube.target, `create pod ${podNameFor(spec.name)} for container ${spec.name}`, "create", "pods", error);
    }
  }

  /** A pod starts once scheduled: this waits until its container runs, and fails with the kubelet's reason when it cannot. */
  async start(id: string): Promise<void> {
    const kube = await this.#kube();
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (let wait = 50; ; wait = Math.min(wait * 2, 1000)) {
      const pod = await this.#read(kube, id);
      if (pod === null) throw new ExternalError(`cannot start pod ${id} in namespace ${kube.target.namespace} (context ${kube.target.context}): there is no such pod`);
      const info = infoOf(pod);
      if (info.state === "running") return;
      const stuck = stuckReason(pod);
      if (stuck !== null || info.state !== "created") {
        throw new ExternalError(`pod ${id} in namespace ${kube.target.namespace} (context ${kube.target.context}) did not start: ${stuck ?? `it is ${info.state}`}`, {
          hint: stuck?.includes("Image") === true ? `Push ${info.image} to a registry the cluster's nodes can pull from (and give the namespace an imagePullSecret if it is private).` : `\`kubectl --context ${kube.target.context} -n ${kube.target.namespace} describe pod ${id}\` says why.`,
        });
      }
      if (Date.now() > deadline) throw new ExternalError(`pod ${id} in namespace ${kube.target.namespace} (context ${kube.target.context}) was not running after ${String(START_TIMEOUT_MS / 60_000)} minutes`, { hint: `\`kubectl --context ${kube.target.context} -n ${kube.target.namespace} describe pod ${id}\` says why.` });
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }

  async #read(kube: KubeClient, id: string): Promise<V1Pod | null> {
    try {
      return await kube.core.readNamespacedPod({ name: podNameFor(id), namespace: kube.target.namespace });
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw kubeError(kube.target, `read pod ${podNameFor(id)}`, "get", "pods", error);
    }
  }

  async inspect(nameOrId: string): Promise<ContainerDetails | null> {
    const pod = await this.#read(await this.#kube(), nameOrId);
    return pod === null ? null : detailsOf(pod);
  }

  async list(labels: Readonly<Record<string, string>>): Promise<readonly ContainerInfo[]> {
    const kube = await this.#kube();
    try {
      const found = await kube.core.listNamespacedPod({ namespace: kube.target.namespace, labelSelector: labelSelector(labels) });
      return found.items.map(infoOf);
    } catch (error) {
      throw kubeError(kube.target, "list pods", "list", "pods", error);
    }
  }

  async #userOf(kube: KubeClient, id: string): Promise<string | undefined> {
    if (!this.#users.has(id)) {
      const pod = await this.#read(kube, id);
      this.#users.set(id, pod?.metadata?.annotations?.[USER_ANNOTATION]);
    }
    return this.#users.get(id);
  }

  async exec(id: string, command: readonly string[], options: ExecOptions = {}): Promise<ExecOutcome> {
    options.signal?.throwIfAborted();
    const kube = await this.#kube();
    const stdout = new Tail();
    const stderr = new Tail();
    const argv = wrappedCommand(command, options, await this.#userOf(kube, id));
    const run = await this.#start(kube, id, command, argv, { stdout: stdout.sink(), stderr: stderr.sink(), stdin: null, signal: options.signal });
    const status = await run.status;
    options.signal?.throwIfAborted();
    return { exitCode: this.#exitCode(kube, id, command, status), stdout: stdout.text(), stderr: stderr.text() };
  }

  async #start(kube: KubeClient, id: string, command: readonly string[], argv: string[], streams: Parameters<typeof runPodExec>[1]) {
    try {
      return await runPodExec(kube.exec, streams, { namespace: kube.target.namespace, pod: podNameFor(id), container: CONTAINER_NAME, command: argv });
    } catch (error) {
      throw kubeError(kube.target, `run ${command.join(" ")} in pod ${podNameFor(id)}`, "create", "pods/exec", error);
    }
  }

  #exitCode(kube: KubeClient, id: string, command: readonly string[], status: V1Status | null): number {
    const code = status === null ? null : exitCodeOf(status);
    if (code !== null) return code;
    const said = status?.message ?? "the connection ended before the API server said how it ended";
    throw new ExternalError(`cannot run ${command.join(" ")} in pod ${id} in namespace ${kube.target.namespace} (context ${kube.target.context}): ${said}`);
  }

  async execStream(id: string, command: readonly string[], options: ExecOptions = {}): Promise<ExecStream> {
    options.signal?.throwIfAborted();
    const kube = await this.#kube();
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    const argv = wrappedCommand(command, options, await this.#userOf(kube, id));
    const run = await this.#start(kube, id, command, argv, { stdout, stderr, stdin, signal: options.signal });
    const exit = run.status.then((status) => this.#exitCode(kube, id, command, status));
    // A caller that never asks how it ended must not see an unhandled rejection.
    exit.catch(() => undefined);
    return { stdin, stdout, stderr, exit, close: () => {
      run.close();
    } };
  }

  async execDetached(id: string, command: readonly string[], options: ExecOptions = {}): Promise<void> {
    const outcome = await this.exec(id, detachedCommand(command), options);
    if (outcome.exitCode !== 0) throw new ExternalError(`cannot start ${command.join(" ")} in pod ${id}: exit code ${String(outcome.exitCode)}: ${outcome.stderr.trim()}`);
  }

  /** A tar unpacked at `/` by `tar` in the pod, as root (Kubernetes has no archive upload). */
  async copyIn(id: string, files: readonly FileToCopy[]): Promise<void> {
    const { tarOf } = await import("../files-tar.ts");
    const stream = await this.execStream(id, ["tar", "-x", "-p", "--no-overwrite-dir", "-C", "/", "-f", "-"], { user: "0", workdir: "/" });
    const errors: Buffer[] = [];
    stream.stderr.on("data", (chunk: Buffer) => errors.push(chunk));
    stream.stdout.resume();
    stream.stdin.end(await tarOf(files));
    const code = await stream.exit;
    if (code !== 0) {
      throw new ExternalError(`cannot copy ${files.map((f) => f.path).join(", ")} into pod ${id}: tar exited with ${String(code)}: ${Buffer.concat(errors).toString("utf8").trim()}`, {
        hint: "The image needs tar (GNU or busybox) on its PATH.",
      });
    }
  }

  async execAttached(id: string, command: readonly string[], terminal: Terminal, options: ExecOptions = {}): Promise<number> {
    const kube = await this.#kube();
    const argv = wrappedCommand(command, options, await this.#userOf(kube, id));
    const output = new Writable({
      write(chunk: Buffer, _encoding, done) {
        terminal.stdout.write(chunk);
        done();
      },
    });
    const errors = new Writable({
      write(chunk: Buffer, _encoding, done) {
        terminal.stderr.write(chunk);
        done();
      },
    });
    const input = new PassThrough();
    terminal.stdin.pipe(input);
    if (terminal.tty) terminal.setRawMode?.(true);
    try {
      const run = await this.#start(kube, id, command, argv, { stdout: output, stderr: errors, stdin: input, tty: terminal.tty, signal: options.signal });
      return this.#exitCode(kube, id, command, await run.status);
    } finally {
      terminal.stdin.unpipe(input);
      if (terminal.tty) terminal.setRawMode?.(false);
    }
  }

  async remove(id: string): Promise<boolean> {
    const kube = await this.#kube();
    this.#users.delete(id);
    try {
      await kube.core.deleteNamespacedPod({ name: podNameFor(id), namespace: kube.target.namespace, gracePeriodSeconds: 0, propagationPolicy: "Background" });
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw kubeError(kube.target, `delete pod ${podNameFor(id)}`, "delete", "pods", error);
    }
  }

  async watchStopped(labels: Readonly<Record<string, string>>, onStopped: (labels: Readonly<Record<string, string>>) => void): Promise<() => void> {
    const kube = await this.#kube();
    const source: PodWatchSource = {
      list: async (selector) => {
        const found = await kube.core.listNamespacedPod({ namespace: kube.target.namespace, labelSelector: selector });
        return { pods: found.items, resourceVersion: found.metadata?.resourceVersion ?? "0" };
      },
      watch: async (selector, resourceVersion, onEvent, onDone) => {
        const controller = await kube.watch.watch(
          `/api/v1/namespaces/${encodeURIComponent(kube.target.namespace)}/pods`,
          { labelSelector: selector, resourceVersion, allowWatchBookmarks: true },
          (type: string, object: unknown) => {
            onEvent(type, object);
          },
          onDone,
        );
        return () => {
          controller.abort();
        };
      },
    };
    try {
      return await watchStoppedPods(source, labelSelector(labels), onStopped);
    } catch (error) {
      throw kubeError(kube.target, "watch pods", "watch", "pods", error);
    }
  }

  ensureNetwork(spec: NetworkCreateSpec): Promise<string> {
    return Promise.reject(this.#noNetworks(`make the network ${spec.Name}`));
  }

  /** A cluster has no Docker networks: there are none to list. */
  listNetworks(): Promise<readonly NetworkInfo[]> {
    return Promise.resolve([]);
  }

  connectNetwork(network: string): Promise<void> {
    return Promise.reject(this.#noNetworks(`attach a pod to the network ${network}`));
  }

  /** Nothing was made, so there is nothing to remove. */
  removeNetwork(): Promise<boolean> {
    return Promise.resolve(false);
  }

  /**
   * The claim a pod's volume mount names, made unless it is there. One being
   * deleted (its pods still hold it: Kubernetes' pvc-protection finalizer) is
   * an error rather than a pod that would wait for it.
   */
  async #ensureClaim(kube: KubeClient, claim: ClaimManifest, container: string): Promise<void> {
    const name = claim.metadata?.name ?? "";
    const volume = claim.metadata?.annotations?.[VOLUME_ANNOTATION] ?? name;
    try {
      // eslint-disable-next-line @typescript-eslint/no-unsafe-class-instance-assignment -- as for pods: a plain object of the claim's shape.
      await kube.core.createNamespacedPersistentVolumeClaim({ namespace: kube.target.namespace, body: claim as V1PersistentVolumeClaim });
      return;
    } catch (error) {
      if (statusOf(error) !== 409) throw kubeError(kube.target, `create the persistent volume claim ${name} for volume ${volume} of container ${container}`, "create", "persistentvolumeclaims", error);
    }
    let existing: V1PersistentVolumeClaim;
    try {
      existing = await kube.core.readNamespacedPersistentVolumeClaim({ name, namespace: kube.target.namespace });
    } catch (error) {
      throw kubeError(kube.target, `read the persistent volume claim ${name}`, "get", "persistentvolumeclaims", error);
    }
    if (existing.metadata?.deletionTimestamp !== undefined) {
      throw new ExternalError(`cannot mount volume ${volume} in container ${container}: its persistent volume claim ${name} in namespace ${kube.target.namespace} (context ${kube.target.context}) is being deleted`, {
        hint: `Kubernetes deletes it once no pod uses it: remove the pods that still mount it, then try again (\`kubectl --context ${kube.target.context} -n ${kube.target.namespace} describe pvc ${name}\` names them).`,
      });
    }
  }

  /**
   * Deletes the volume's claim: true when there was one. Kubernetes keeps a
   * claim a pod still mounts until that pod is gone (where Docker refuses to
   * remove a volume in use), so this never waits.
   */
  async removeVolume(name: string): Promise<boolean> {
    const kube = await this.#kube();
    const claim = claimNameFor(name);
    try {
      // One already being deleted (waiting for its pods to go) counts as gone: a second remove answers false, as on Docker.
      const existing = await kube.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace: kube.target.namespace });
      if (existing.metadata?.deletionTimestamp !== undefined) return false;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw kubeError(kube.target, `read the persistent volume claim ${claim} of volume ${name}`, "get", "persistentvolumeclaims", error);
    }
    try {
      await kube.core.deleteNamespacedPersistentVolumeClaim({ name: claim, namespace: kube.target.namespace });
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw kubeError(kube.target, `delete the persistent volume claim ${claim} of volume ${name}`, "delete", "persistentvolumeclaims", error);
    }
  }

  /**
   * The claims carrying these labels, each as the Docker volume it was made
   * for (its name and labels as the mount gave them): what `down --all`
   * removes on a host. A claim being deleted is not listed: it is gone as far
   * as removeVolume is concerned.
   */
  async listVolumes(labels: Readonly<Record<string, string>>): Promise<readonly VolumeInfo[]> {
    const kube = await this.#kube();
    let found: V1PersistentVolumeClaimList;
    try {
      found = await kube.core.listNamespacedPersistentVolumeClaim({ namespace: kube.target.namespace, labelSelector: labelSelector(labels) });
    } catch (error) {
      throw kubeError(kube.target, "list persistent volume claims", "list", "persistentvolumeclaims", error);
    }
    return found.items.filter((claim) => claim.metadata?.deletionTimestamp === undefined).map(volumeOf);
  }

  #noNetworks(action: string): UserError {
    return new UserError(`host ${this.#options.name} is a Kubernetes cluster: cspace cannot ${action} there`, {
      hint: 'Leave "container.network" unset for Kubernetes hosts and restrict the namespace\'s egress with a NetworkPolicy.',
    });
  }

  /** The container's output; `since` is rounded to whole seconds (the API's sinceSeconds). */
  async logs(id: string, options: { readonly since?: string | undefined } = {}): Promise<string> {
    const kube = await this.#kube();
    const sinceSeconds = options.since === undefined ? undefined : Math.max(1, Math.ceil((Date.now() - Date.parse(options.since)) / 1000));
    try {
      return await kube.core.readNamespacedPodLog({ name: podNameFor(id), namespace: kube.target.namespace, container: CONTAINER_NAME, ...(sinceSeconds === undefined ? {} : { sinceSeconds }) });
    } catch (error) {
      throw kubeError(kube.target, `read the log of pod ${podNameFor(id)}`, "get", "pods/log", error);
    }
  }
}

/** The last KEEP_BYTES of a stream. */
class Tail {
  #chunks: Buffer[] = [];
  #bytes = 0;

  sink(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.#chunks.push(chunk);
        this.#bytes += chunk.length;
        while (this.#bytes > KEEP_BYTES && this.#chunks.length > 1) this.#bytes -= this.#chunks.shift()?.length ?? 0;
        done();
      },
    });
  }

  text(): string {
    return Buffer.concat(this.#chunks).toString("utf8");
  }
}

/** A ContainerRuntime on a Kubernetes namespace; nothing is loaded or contacted until it is used. */
export function openKubernetesRuntime(options: KubernetesHostOptions): ContainerRuntime {
  return new KubernetesRuntime(options);
}
