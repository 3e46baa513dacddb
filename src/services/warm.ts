import { ensureRunDir } from "../adapters/run-dir.ts";
import { defaultBranchOf } from "../adapters/git/repository.ts";
import type { LoadedDevcontainer } from "../adapters/devcontainer/read-devcontainer.ts";
import { memoryBytes } from "../core/config/schema.ts";
import { containerCreateSpec } from "../core/devcontainer/create-options.ts";
import { envFromList } from "../core/devcontainer/substitute.ts";
import { UserError } from "../core/errors.ts";
import { instanceLabels, LABELS } from "../core/instances/labels.ts";
import { containerNameFor, validateInstanceName } from "../core/instances/names.ts";
import type { ExecOptions } from "../core/instances/ports.ts";
import { openProject, removeInstance, type ProjectContext } from "./instances.ts";
import type { InstanceOutcome, WarmAction, WarmEvent, WarmStep } from "../core/instances/warm-events.ts";
import { ensureImage } from "./warm-image.ts";
import { loadInstanceSpec } from "./warm-spec.ts";
import { markPostCreateDone, runLifecycle, shareWithUser, StepFailure, userIds, validate } from "./warm-steps.ts";

export interface WarmOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly instances: readonly string[];
  readonly base?: string | undefined;
  readonly reset: boolean;
  readonly signal?: AbortSignal | undefined;
  readonly onEvent?: ((event: WarmEvent) => void) | undefined;
}

export interface WarmResult {
  readonly projectId: string;
  readonly instances: readonly InstanceOutcome[];
}

/**
 * Makes each named instance ready, up to container.warmConcurrency at once.
 * Everything that can be refused (names, devcontainer.json, a different
 * base) is refused before anything is created. An instance that fails is
 * retried once from scratch, then removed; Ctrl-C (the signal) removes what
 * was being made.
 */
export async function warm(options: WarmOptions): Promise<WarmResult> {
  if (options.instances.length === 0) throw new UserError("name at least one instance to warm", { hint: "cspace warm issue-10 issue-11" });
  const names = [...new Set(options.instances.map(validateInstanceName))];
  const project = await openProject(options.cwd, options.env);
  const base = options.base ?? project.config.coordinator.featureBranch ?? (await defaultBranchOf(project.projectDir));
  const specs = new Map<string, LoadedDevcontainer>();
  for (const name of names) specs.set(name, await loadInstanceSpec(project, name));
  for (const name of names) {
    const existing = await project.runtime.inspect(containerNameFor(project.projectId, name));
    const had = existing?.labels[LABELS.base];
    if (existing !== null && had !== undefined && had !== base && !options.reset) {
      throw new UserError(`instance "${name}" was made from base "${had}", not "${base}"`, {
        hint: `pass --base ${had} to keep it, or --reset to remake it from ${base}`,
      });
    }
  }
  const emit = options.onEvent ?? (() => undefined);
  const first = specs.get(names[0] ?? "");
  if (first === undefined) throw new UserError("no instances to warm");
  for (const name of names) emit({ kind: "step", instance: name, step: "image", attempt: 1 });
  await ensureImage(project, first, options.signal);
  await ensureRunDir(project.runDir);

  // One fetch into the object store per warm, not one per instance: the fetches would queue behind each other.
  let resolving: Promise<string> | undefined;
  const baseCommit = (): Promise<string> =>
    (resolving ??= project.workspaces.resolveBase(base, options.signal).catch((error: unknown) => {
      resolving = undefined;
      throw error;
    }));
  const outcomes = new Map<string, InstanceOutcome>();
  const queue = [...names];
  const worker = async (): Promise<void> => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const loaded = specs.get(name) ?? first;
      const outcome = await warmOne(project, { instance: name, base, baseCommit }, loaded, options, emit);
      outcomes.set(name, outcome);
      emit({ kind: "done", outcome });
    }
  };
  await Promise.all(Array.from({ length: Math.min(project.config.container.warmConcurrency, names.length) }, worker));
  return { projectId: project.projectId, instances: names.map((n) => outcomes.get(n)).filter((o) => o !== undefined) };
}

interface Target {
  readonly instance: string;
  readonly base: string;
  /** The commit the base names, fetched once and shared by every instance of this warm. */
  readonly baseCommit: () => Promise<string>;
}

async function warmOne(
  project: ProjectContext,
  target: Target,
  loaded: LoadedDevcontainer,
  options: WarmOptions,
  emit: (event: WarmEvent) => void,
): Promise<InstanceOutcome> {
  const { instance, base } = target;
  const started = Date.now();
  const container = containerNameFor(project.projectId, instance);
  const finish = (status: InstanceOutcome["status"], action: WarmAction | null, commit: string | null, attempts: number, error: InstanceOutcome["error"]): InstanceOutcome => ({
    instance, status, action, container, base, commit, image: loaded.imageRef, attempts, elapsedMs: Date.now() - started, error,
  });
  let reset = options.reset;
  let lastError: { message: string; output: string } = { message: "", output: "" };
  for (let attempt = 1; attempt <= 2; attempt++) {
    const step = (name: WarmStep): void => {
      options.signal?.throwIfAborted();
      emit({ kind: "step", instance, step: name, attempt });
    };
    try {
      const made = await bringUp(project, target, loaded, reset, step, options.signal);
      return finish("ready", made.action, made.commit, attempt, null);
    } catch (error) {
      if (options.signal?.aborted === true) {
        // What this run was making is removed; a ready instance that was only being checked is left alone.
        await removeInstance(project, instance).catch(() => undefined);
        return finish("cancelled", null, null, attempt, { message: "interrupted", output: "" });
      }
      if (error instanceof UserError) throw error;
      lastError = { message: error instanceof Error ? error.message : String(error), output: error instanceof StepFailure ? error.output : "" };
      emit({ kind: "step", instance, step: "cleanup", attempt });
      await removeInstance(project, instance);
      if (attempt === 1) emit({ kind: "retry", instance, reason: lastError.message });
      reset = true;
    }
  }
  return finish("failed", null, null, 2, lastError);
}

async function bringUp(
  project: ProjectContext,
  target: Target,
  loaded: LoadedDevcontainer,
  reset: boolean,
  step: (name: WarmStep) => void,
  signal: AbortSignal | undefined,
): Promise<{ action: WarmAction; commit: string }> {
  const { instance, base } = target;
  const name = containerNameFor(project.projectId, instance);
  const existing = reset ? null : await project.runtime.inspect(name);
  const workspace = await project.workspaces.find(instance);
  const recorded = existing?.labels[COMMIT_LABEL];
  if (existing !== null && workspace !== null && recorded !== undefined) {
    const loadedHere = await loadInstanceSpec(project, instance, envFromList(existing.env));
    const access = accessOf(loadedHere, signal);
    const action: WarmAction = existing.state === "running" ? "validated" : "restarted";
    if (action === "restarted") {
      step("start");
      await project.runtime.start(existing.id);
      step("postStart");
      await runLifecycle(project, existing.id, "postStartCommand", loadedHere.spec.postStart, access);
    }
    step("validate");
    await validate(project, existing.id, access, { commit: recorded, exact: false });
    return { action, commit: recorded };
  }
  await removeInstance(project, instance);
  step("workspace");
  const commit = await target.baseCommit();
  const ws = await project.workspaces.create(instance, base, commit, signal);
  step("create");
  const { spec } = loaded;
  const cpus = project.config.container.cpus;
  const id = await project.runtime.create(
    containerCreateSpec({
      spec,
      imageRef: loaded.imageRef,
      name,
      labels: { ...instanceLabels({ projectId: project.projectId, instance, base, imageInputs: loaded.imageInputs ?? loaded.imageRef }), [COMMIT_LABEL]: commit },
      workspaceHostPath: ws.path,
      runDirHostPath: project.runDir,
      extraMounts: ws.supportMounts.map((m) => ({ type: "bind", source: m.source, target: m.target, readOnly: true })),
      limits: {
        memoryBytes: project.config.container.memory === undefined ? null : memoryBytes(project.config.container.memory),
        nanoCpus: cpus === undefined ? null : Math.round(cpus * 1e9),
      },
      env: project.config.container.env,
    }),
  );
  step("start");
  await project.runtime.start(id);
  const details = await project.runtime.inspect(id);
  const resolved = await loadInstanceSpec(project, instance, envFromList(details?.env ?? []));
  const access = accessOf(resolved, signal);
  await shareWithUser(project, ws, await userIds(project, id, access.user));
  step("postCreate");
  await runLifecycle(project, id, "postCreateCommand", resolved.spec.postCreate, access);
  await markPostCreateDone(project, id);
  step("postStart");
  await runLifecycle(project, id, "postStartCommand", resolved.spec.postStart, access);
  step("validate");
  await validate(project, id, access, { commit, exact: true });
  return { action: "created", commit };
}

/** The commit the workspace was made at; a label, since it never changes for the container's life. */
const COMMIT_LABEL = "dev.cspace.commit";

/** With the signal, so Ctrl-C ends a lifecycle command that would otherwise block the warm for ever. */
function accessOf(loaded: LoadedDevcontainer, signal: AbortSignal | undefined): ExecOptions {
  const { spec } = loaded;
  return { user: spec.remoteUser ?? spec.containerUser ?? undefined, workdir: spec.workspaceFolder, env: spec.remoteEnv, signal };
}
