import type { LoadedDevcontainer } from "../../adapters/devcontainer/read-devcontainer.ts";
import { ensureInstanceDir } from "../../adapters/instance-files.ts";
import { RUN_DIR_IN_CONTAINER } from "../../core/devcontainer/create-options.ts";
import { envFromList } from "../../core/devcontainer/substitute.ts";
import { containerNameFor } from "../../core/instances/names.ts";
import type { ContainerRuntime, WorkspaceStore } from "../../core/instances/ports.ts";
import type { WarmAction } from "../../core/instances/warm-events.ts";
import type { WorkspaceTransport } from "../../core/workspaces/transport.ts";
import { accessOf, loadInstanceSpec } from "../instances/spec.ts";
import type { Project } from "../project.ts";
import { COMMIT_LABEL, removeContainers } from "./held-work.ts";
import type { StepGate, Target } from "./bring-up.ts";
import { reuseExisting } from "./reuse.ts";
import { lifecycleRunOf, workerCreateSpec } from "./worker-spec.ts";
import { markPostCreateDone, runLifecycle, StepFailure, tailOf, userIds, type LifecycleRun } from "./steps.ts";
import { validate } from "./validate.ts";

/**
 * A host that shares no folder with this machine (a Docker engine over SSH
 * or TCP, or a Kubernetes namespace): its engine, its workspace transport,
 * and the push of the warm's base commit into its mirror, made once per warm
 * however many workers the host gets. Everything below goes through the
 * ContainerRuntime port, so it is the same on both: on Kubernetes the
 * volumes are claims and every exec a pod exec (sites.ts has refused what a
 * cluster cannot do: an image to build, a Docker network).
 */
export interface RemoteSite {
  readonly host: string;
  readonly runtime: ContainerRuntime;
  readonly transport: WorkspaceTransport;
  /** The commit in the host's mirror under the base's name; the first caller pushes it, the others wait for that push. */
  readonly pushBase: (base: string, commit: string) => Promise<void>;
  /**
   * Whether a stopped container there can be started again: a Docker
   * container can; a pod that ended cannot (`restartPolicy: Never`), so a
   * stopped one is made anew, as a failed restart would end up doing.
   */
  readonly restartable: boolean;
}

/**
 * One attempt at making an instance ready on a remote host. As on this
 * machine, an existing container with its commit label is validated
 * (restarted when stopped, where the host can restart one; a pod that ended
 * is made anew). Otherwise the container is made with the
 * transport's volumes (the host's read-only mirror, the instance's own
 * checkout volume) in place of this machine's folders, and its instance
 * directory is a plain folder inside it, the container user's alone: the
 * relay and the instance mirror carry what is written there. The checkout
 * is cloned from the mirror inside the container, as the container user.
 *
 * What a remote instance does not keep across a remake is its uncommitted
 * work: a container made again gets a fresh checkout of the base (its
 * branch, once collected, is on this machine).
 */
export async function bringUpRemote(
  project: Project,
  workspaces: WorkspaceStore,
  site: RemoteSite,
  target: Target,
  loaded: LoadedDevcontainer,
  options: { readonly reset: boolean; readonly step: StepGate; readonly signal: AbortSignal | undefined },
): Promise<{ action: WarmAction; commit: string }> {
  const { runtime, transport } = site;
  const { instance, base } = target;
  const { step, signal } = options;
  const lifecycle = (key: LifecycleRun["key"], resolved: LoadedDevcontainer): LifecycleRun => lifecycleRunOf(project, key, resolved, signal);
  const name = containerNameFor(project.projectId, instance);
  // This machine's copy of the instance directory: the mirror writes the worker's events and reports here.
  await ensureInstanceDir(project.runDir, instance);
  const existing = options.reset ? null : await runtime.inspect(name);
  const recorded = existing?.labels[COMMIT_LABEL];
  if (existing !== null && recorded !== undefined && (existing.state === "running" || site.restartable)) {
    const here = await loadInstanceSpec(project, workspaces, instance, envFromList(existing.env));
    return reuseExisting(runtime, existing, recorded, { access: accessOf(here, signal), postStart: lifecycle("postStartCommand", here), step });
  }
  await removeContainers(runtime, project, instance);
  await step("workspace");
  const commit = await target.baseCommit();
  await site.pushBase(base, commit);
  await step("create");
  const { spec } = loaded;
  const id = await runtime.create(workerCreateSpec(project, target, loaded, { host: site.host, commit, files: { kind: "transport", mounts: transport.mountsFor(instance, spec.workspaceFolder) } }));
  await step("start");
  await runtime.start(id);
  const details = await runtime.inspect(id);
  const resolved = await loadInstanceSpec(project, workspaces, instance, envFromList(details?.env ?? []));
  const access = accessOf(resolved, signal);
  const ids = await userIds(runtime, id, access.user);
  const owner = `${String(ids.uid)}:${String(ids.gid)}`;
  // The user's alone, as this machine's instance directories are: another process in the container cannot read its sockets' peer.
  const made = await runtime.exec(id, ["/bin/sh", "-c", 'mkdir -p "$1" && chown "$2" "$1" && chmod 0700 "$1"', "sh", RUN_DIR_IN_CONTAINER, owner], { user: "0:0" });
  if (made.exitCode !== 0) throw new StepFailure(`cannot make ${RUN_DIR_IN_CONTAINER} in the container`, tailOf(made.stdout + made.stderr));
  await transport.checkout(id, { instance, branch: instance, commit, path: spec.workspaceFolder, user: owner, config: await workspaces.checkoutConfig(base) }, signal);
  await step("postCreate");
  await runLifecycle(runtime, id, lifecycle("postCreateCommand", resolved));
  await markPostCreateDone(runtime, id);
  await step("postStart");
  await runLifecycle(runtime, id, lifecycle("postStartCommand", resolved));
  await step("validate");
  await validate(runtime, id, access, { commit, exact: true });
  return { action: "created", commit };
}
