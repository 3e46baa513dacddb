import type { LoadedDevcontainer } from "../../adapters/devcontainer/read-devcontainer.ts";
import { ensureRunDir } from "../../adapters/run-dir.ts";
import { refuseResetUnderCoordinator } from "./coordinator-guard.ts";
import { UserError } from "../../core/errors.ts";
import { LABELS } from "../../core/instances/labels.ts";
import { containerNameFor, validateInstanceName } from "../../core/instances/names.ts";
import type { InstanceLocks, WorkspaceStore } from "../../core/instances/ports.ts";
import type { InstanceOutcome, WarmAction, WarmEvent, WarmStep } from "../../core/instances/warm-events.ts";
import { loadInstanceSpec } from "../instances/spec.ts";
import { refuseNetworkEscapes } from "../../core/devcontainer/network-confinement.ts";
import { openProject, type OpenedProject, type PortOverrides, type Project } from "../project.ts";
import { bringUp, type BringUpPorts, type Target } from "./bring-up.ts";
import { ensureEgress, networkLabelOf, projectEgressPolicy } from "./egress.ts";
import { discardAttempt, heldWork, NOTHING_HELD, removeContainers } from "./held-work.ts";
import { bringUpRemote } from "./remote-bring-up.ts";
import { openSites, type Site, type Sites } from "./sites.ts";
import { ensureImage } from "./image.ts";
import { outdatedWorker, refuseMigrationWhileAgentRuns } from "./outdated-worker.ts";
import { workerNetwork } from "../../core/network/egress.ts";
import { StepFailure } from "./steps.ts";
import { startCommit } from "./forge-base.ts";

export interface WarmOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly instances: readonly string[];
  readonly base?: string | undefined;
  readonly reset: boolean;
  /** With `reset`: remake instances even when a running coordinator uses them. */
  readonly force?: boolean | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly onEvent?: ((event: WarmEvent) => void) | undefined;
  readonly ports?: PortOverrides | undefined;
  /**
   * false: check out the user's repository's commit of the base even with the local forge's bare repository here
   * (the coordinator's pool: its launch brings the checkout to the forge's head itself). Default true (./forge-base.ts).
   */
  readonly startFromForge?: boolean | undefined;
  /** With workers.hosts: place beyond the hosts' slots rather than refuse (the coordinator's pool; ./placement.ts). */
  readonly beyondSlots?: boolean | undefined;
  /** With workers.hosts: make every instance on this host, wherever it is now (the coordinator's moves; ./placement.ts). */
  readonly onHost?: string | undefined;
}

export interface WarmResult {
  readonly projectId: string;
  readonly instances: readonly InstanceOutcome[];
}

/**
 * Makes each named instance ready, up to container.warmConcurrency at once.
 * Everything that can be refused (names, devcontainer.json, a different
 * base, a project that is no git repository) is refused before anything is
 * created. Each instance is worked on under its own lock, so a second warm
 * waits and then only validates, and a `down` of the instance stops this one.
 * An instance that fails is retried once, then removed; Ctrl-C (the signal)
 * removes what was being made. Neither removes work the instance held (a used
 * workspace, an agent's events and reports): only --reset does.
 */
export async function warm(options: WarmOptions): Promise<WarmResult> {
  if (options.instances.length === 0) throw new UserError("name at least one instance to warm", { hint: "cspace warm issue-10 issue-11" });
  // --force only lifts --reset's refusal to remake instances a running coordinator uses: alone it would be silently ignored.
  if (options.force === true && !options.reset) {
    throw new UserError("--force only applies to --reset: it remakes instances even when a running coordinator uses them", { hint: "cspace warm <instances…> --reset --force, or drop --force" });
  }
  const names = [...new Set(options.instances.map(validateInstanceName))];
  const project = await openProject(options);
  const workspaces = await project.ports.workspaces();
  // Every instance's devcontainer is checked before the engine is reached: a refusal there needs no engine to say.
  const specs = new Map<string, LoadedDevcontainer>();
  const policy = projectEgressPolicy(project);
  for (const name of names) {
    const loaded = await loadInstanceSpec(project, workspaces, name);
    refuseNetworkEscapes(loaded.spec, policy);
    specs.set(name, loaded);
  }
  const locks = await project.ports.locks();
  const base = options.base ?? project.config.coordinator.featureBranch ?? (await workspaces.defaultBranch());
  if (options.reset && options.force !== true) await refuseResetUnderCoordinator(project, names);
  const first = specs.get(names[0] ?? "");
  if (first === undefined) throw new UserError("no instances to warm");
  const sites = await openSites(project, names, first, { beyondSlots: options.beyondSlots, onHost: options.onHost });
  try {
    return await warmOn(project, workspaces, locks, sites, { options, names, specs, first, base });
  } finally {
    await sites.close();
  }
}

interface WarmPlan {
  readonly options: WarmOptions;
  readonly names: readonly string[];
  readonly specs: ReadonlyMap<string, LoadedDevcontainer>;
  readonly first: LoadedDevcontainer;
  readonly base: string;
}

async function warmOn(project: OpenedProject, workspaces: WorkspaceStore, locks: InstanceLocks, sites: Sites, plan: WarmPlan): Promise<WarmResult> {
  const { options, names, specs, first, base } = plan;
  const wantedNetwork = networkLabelOf(workerNetwork(projectEgressPolicy(project), project.projectId));
  const emit = options.onEvent ?? (() => undefined);
  /** Instances made by an older cspace, made again (./outdated-worker.ts). */
  const outdated = new Set<string>();
  for (const name of names) {
    const site = sites.of(name);
    const runtime = site.runtime;
    const existing = await runtime.inspect(containerNameFor(project.projectId, name));
    const had = existing?.labels[LABELS.base];
    if (existing !== null && had !== undefined && had !== base && !options.reset) {
      throw new UserError(`instance "${name}" was made from base "${had}", not "${base}"`, {
        hint: `pass --base ${had} to keep it, or --reset to remake it from ${base}`,
      });
    }
    // Made before the label existed: on Docker's default network, as every worker was then.
    const hadNetwork = existing?.labels[LABELS.network] ?? "open";
    if (existing !== null && hadNetwork !== wantedNetwork && !options.reset) {
      // Never kept silently: a worker left on the open network after an allowlist was set would defeat it.
      throw new UserError(`instance "${name}" was made on network "${hadNetwork}", but container.network now asks for "${wantedNetwork}"`, {
        hint: `pass --reset to remake it on the new network (its uncommitted work is lost), or set container.network back`,
      });
    }
    // A remote worker's checkout is a volume of its own host: there is no older layout of it to move.
    const reasons = options.reset || site.kind === "remote" ? [] : await outdatedWorker(workspaces, existing, name);
    if (existing !== null && reasons.length > 0) {
      await refuseMigrationWhileAgentRuns(runtime, project.runDir, existing, name, reasons);
      outdated.add(name);
      emit({ kind: "warning", message: `${name} was made by an older cspace (${reasons.join("; ")}): its container is made again and its checkout moved onto the store's read-only mount, keeping its work` });
    }
  }
  // The same file for every instance: its ignored keys are said once.
  for (const warning of first.spec.warnings) emit({ kind: "warning", message: `${first.spec.source}: ${warning}` });
  for (const site of sites.used()) for (const note of site.kind === "remote" ? (site.notes ?? []) : []) emit({ kind: "warning", message: note });
  for (const name of names) emit({ kind: "step", instance: name, step: "image", attempt: 1 });
  // The image and the egress proxy on every host this warm uses, each once.
  const networks = await Promise.all(sites.used().map(async (site) => {
    await ensureImage(site.runtime, first, options.signal);
    return ensureEgress(site.runtime, project, first.imageRef);
  }));
  const network = networks[0] ?? workerNetwork(projectEgressPolicy(project), project.projectId);
  await ensureRunDir(project.runDirSpec);

  // One fetch into the object store per warm, not one per instance: the fetches would queue behind each other.
  let resolving: Promise<string> | undefined;
  const baseCommit = (): Promise<string> =>
    (resolving ??= (options.startFromForge === false
      ? workspaces.resolveBase(base, options.signal)
      : startCommit(project, workspaces, base, options.signal, (message) => {
          emit({ kind: "warning", message });
        })
    ).catch((error: unknown) => {
      resolving = undefined;
      throw error;
    }));
  const outcomes = new Map<string, InstanceOutcome>();
  const queue = [...names];
  const worker = async (): Promise<void> => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const instance = name;
      const loaded = specs.get(instance) ?? first;
      const target: Target = { instance, base, baseCommit, network };
      const site = sites.of(instance);
      const outcome = await locks
        .withLock(instance, () => warmOne(project, site, workspaces, locks, target, loaded, { ...options, outdated: outdated.has(instance) }, emit), options.signal)
        .catch((error: unknown) => {
          if (options.signal?.aborted !== true) throw error;
          return outcomeOf(project, site, target, loaded, Date.now(), "cancelled", null, null, 0, { message: "interrupted", output: "" });
        });
      outcomes.set(instance, outcome);
      emit({ kind: "done", outcome });
    }
  };
  await Promise.all(Array.from({ length: Math.min(project.config.container.warmConcurrency, names.length) }, worker));
  return { projectId: project.projectId, instances: names.map((n) => outcomes.get(n)).filter((o) => o !== undefined) };
}

/** Thrown at a step boundary when `cspace down` asked for the instance. */
class RemovalRequested extends Error {
  override readonly name = "RemovalRequested";
}

async function warmOne(
  project: Project,
  site: Site,
  workspaces: WorkspaceStore,
  locks: InstanceLocks,
  target: Target,
  loaded: LoadedDevcontainer,
  options: WarmOptions & { readonly outdated: boolean },
  emit: (event: WarmEvent) => void,
): Promise<InstanceOutcome> {
  const { instance } = target;
  const started = Date.now();
  const finish = (status: InstanceOutcome["status"], action: WarmAction | null, commit: string | null, attempts: number, error: InstanceOutcome["error"]) =>
    outcomeOf(project, site, target, loaded, started, status, action, commit, attempts, error);
  const ports: BringUpPorts = { runtime: site.runtime, workspaces };
  let reset = options.reset;
  // A remote instance keeps no checkout on this machine: what it held is its host's to keep (./remote-bring-up.ts).
  const held = options.reset || site.kind === "remote" ? NOTHING_HELD : await heldWork(ports, project, instance);
  /** What a failed or interrupted attempt made goes; on a remote host, its containers (the checkout volume is cloned over next time). */
  const discard = (): Promise<void> => (site.kind === "remote" ? removeContainers(site.runtime, project, instance) : discardAttempt(ports, project, instance, held));
  let lastError: { message: string; output: string } = { message: "", output: "" };
  for (let attempt = 1; attempt <= 2; attempt++) {
    const gate = async (): Promise<void> => {
      options.signal?.throwIfAborted();
      if (await locks.removalRequested(instance)) throw new RemovalRequested(`cspace down removed ${instance}`);
    };
    const step = async (name: WarmStep): Promise<void> => {
      await gate();
      emit({ kind: "step", instance, step: name, attempt });
    };
    try {
      await gate();
      const made =
        site.kind === "remote"
          ? await bringUpRemote(project, workspaces, site.remote, target, loaded, { reset, step, signal: options.signal })
          : await bringUp(project, ports, target, loaded, { reset, outdated: options.outdated, held, step, signal: options.signal });
      return finish("ready", made.action, made.commit, attempt, null);
    } catch (error) {
      if (options.signal?.aborted === true) {
        // What this run was making is removed; the work the instance held is not.
        await discard().catch(() => undefined);
        return finish("cancelled", null, null, attempt, { message: "interrupted", output: "" });
      }
      // Down removes the instance itself, once it has the lock: nothing more is made or removed here.
      if (error instanceof RemovalRequested || (await locks.removalRequested(instance))) {
        return finish("cancelled", null, null, attempt, { message: `removed by cspace down while warming`, output: "" });
      }
      if (error instanceof UserError) throw error;
      lastError = { message: error instanceof Error ? error.message : String(error), output: error instanceof StepFailure ? error.output : "" };
      emit({ kind: "step", instance, step: "cleanup", attempt });
      await discard();
      if (error instanceof StepFailure && !error.retryable) return finish("failed", null, null, attempt, lastError);
      if (attempt === 1) emit({ kind: "retry", instance, reason: lastError.message });
      reset = true;
    }
  }
  return finish("failed", null, null, 2, lastError);
}

function outcomeOf(
  project: Project,
  site: Site,
  target: Target,
  loaded: LoadedDevcontainer,
  started: number,
  status: InstanceOutcome["status"],
  action: WarmAction | null,
  commit: string | null,
  attempts: number,
  error: InstanceOutcome["error"],
): InstanceOutcome {
  const container = containerNameFor(project.projectId, target.instance);
  return { instance: target.instance, status, action, container, host: site.host, base: target.base, commit, image: loaded.imageRef, attempts, elapsedMs: Date.now() - started, error };
}
