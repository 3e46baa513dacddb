import { removePlantedLinks, writeUntrustedFile } from "../../adapters/fs/untrusted-dir.ts";
import { priceFor } from "../../core/agents/token-price.ts";
import { workerBundleFiles } from "../../adapters/worker-bundle.ts";
import { presetNamed, PRESETS } from "../../core/agents/presets/index.ts";
import type { AgentPreset } from "../../core/agents/preset.ts";
import type { WorkerStatus } from "../../core/agents/worker-status.ts";
import { envFromList } from "../../core/devcontainer/substitute.ts";
import { ExternalError, UserError } from "../../core/errors.ts";
import { containerNameFor, validateInstanceName } from "../../core/instances/names.ts";
import { localHostName, workerHosts } from "../../core/hosts/hosts.ts";
import type { ContainerDetails, ContainerRuntime } from "../../core/instances/ports.ts";
import type { InstanceOutcome, WarmEvent } from "../../core/instances/warm-events.ts";
import { HOST_FILES, INSTANCE_DIR_IN_CONTAINER, INSTANCE_FILES, WORKER_BUNDLE_DIR } from "../../core/messaging/layout.ts";
import { LAUNCH_DEFAULTS, type Launch } from "../../core/messaging/launch.ts";
import { accessOf, loadInstanceSpec } from "../instances/spec.ts";
import { ensureAgentExecutable } from "./agent-executable.ts";
import { openProject, type OpenedProject, type PortOverrides } from "../project.ts";
import { COMMIT_LABEL } from "../warm/bring-up.ts";
import { warm } from "../warm/warm.ts";
import { agentEnvironment } from "./agent-env.ts";
import { readPromptFile, writeHostFile } from "./host-files.ts";
import { instancePaths, type InstancePaths } from "./instance-files.ts";
import { eventsEnd, type EventsPosition } from "./events.ts";
import { askStatus, waitForSupervisor } from "./supervisor-client.ts";

export interface UpOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly instance: string;
  /** The base branch for a new instance (default: coordinator.featureBranch, else the default branch). */
  readonly base?: string | undefined;
  /** The first turn, as text; or `promptFile`. */
  readonly prompt?: string | undefined;
  readonly promptFile?: string | undefined;
  /** A preset name; default agent.preset. */
  readonly agent?: string | undefined;
  readonly onWarmEvent?: ((event: WarmEvent) => void) | undefined;
  /** Told of slow steps after warm (installing the agent's CLI). */
  readonly onNotice?: ((text: string) => void) | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly ports?: PortOverrides | undefined;
  /** How long the supervisor may take to answer after it is started. */
  readonly startTimeoutMs?: number | undefined;
}

export interface UpResult {
  readonly instance: string;
  readonly preset: string;
  readonly branch: string;
  readonly base: string;
  /** The host it runs on (workers.hosts). */
  readonly host: string;
  /** Whether that host shares no folder with this machine: its events are followed from its container. */
  readonly remote: boolean;
  /** What warm did first (created, validated, restarted). */
  readonly warmed: InstanceOutcome;
  readonly status: WorkerStatus;
  /** The instance's directory on the host (sockets, events, outbox). */
  readonly instanceDir: string;
  /** Where events.ndjson ended before this supervisor started: `--follow` reads from here (a remote worker's: the offset in its container's file). */
  readonly eventsFrom: EventsPosition | "start";
}

/**
 * `cspace up`: warms the instance if needed, then starts its supervisor,
 * detached, as the container user, running the agent on the instance's branch
 * with the prompt. Returns once the supervisor answers; it outlives this
 * process. A second `up` of an instance whose agent still runs is refused.
 * A worker placed on another host is started there the same way, through a
 * relay and a mirror held for this command only (remote-session.ts):
 * launch.json and prompt.md are copied into its container.
 */
export async function up(options: UpOptions): Promise<UpResult> {
  const instance = validateInstanceName(options.instance);
  const prompt = await promptOf(options);
  const project = await openProject(options);
  const preset = presetFor(options.agent ?? project.config.agent.preset);
  const paths = instancePaths(project.runDir, instance);
  // Refused before warming: an agent already at work there must be talked to, not replaced.
  const running = await askStatus(paths, 1_000);
  if (running !== null) throw alreadyRunning(instance, running);

  const warmed = await warm({ cwd: options.cwd, env: options.env, instances: [instance], base: options.base, reset: false, signal: options.signal, onEvent: options.onWarmEvent, ports: options.ports });
  const outcome = warmed.instances[0];
  if (outcome?.status === "cancelled") throw new ExternalError(`instance ${instance} was not started: ${outcome.error?.message ?? "interrupted"}`);
  if (outcome?.status !== "ready") {
    throw new ExternalError(`instance ${instance} could not be made ready: ${outcome?.error?.message ?? "interrupted"}`, { hint: "cspace warm shows the failing step and its output" });
  }
  // On another host the supervisor is reached through a relay, and its files read through a mirror, of this command's own.
  const remote = outcome.host !== localHostName(workerHosts(project.config));
  const [runtime, locks] = await Promise.all([project.ports.runtime(), project.ports.locks()]);
  return locks.withLock(
    instance,
    async () => {
      const container = await runtime.inspect(containerNameFor(project.projectId, instance));
      if (container?.state !== "running") throw new ExternalError(`instance ${instance} stopped before its agent could start`, { hint: `cspace warm ${instance}` });
      const start = async (reached: InstancePaths): Promise<UpResult> => {
        const again = await askStatus(reached, remote ? 10_000 : 1_000);
        if (again !== null) throw alreadyRunning(instance, again);
        const eventsFrom = (await eventsEnd(reached)) ?? "start";
        const status = await startSupervisor(project, runtime, container, reached, {
          instance,
          preset,
          base: outcome.base,
          baseSha: container.labels[COMMIT_LABEL] ?? null,
          prompt,
          resumeSessionId: null,
          restartReason: null,
          signal: options.signal,
          // Over SSH on a busy host a supervisor takes longer to answer: as long as the coordinator gives a remote launch.
          timeoutMs: options.startTimeoutMs ?? (remote ? 60_000 : 30_000),
          // `cspace down` wins over an up in progress: it removes the container at once and waits for our lock.
          abandoned: () => locks.removalRequested(instance),
          onNotice: options.onNotice,
          filesInContainer: remote,
        });
        return { instance, preset: preset.name, branch: instance, base: outcome.base, host: outcome.host, remote, warmed: outcome, status, instanceDir: paths.dir, eventsFrom };
      };
      if (!remote) return start(paths);
      const { withRemoteSession } = await import("./remote-session.ts");
      return withRemoteSession(project, instance, { runtime, container, host: outcome.host }, { files: true }, (reached) => start(reached));
    },
    options.signal,
  );
}

export interface SupervisorStart {
  readonly instance: string;
  readonly preset: AgentPreset;
  readonly base: string;
  readonly baseSha: string | null;
  readonly prompt: string;
  readonly resumeSessionId: string | null;
  readonly restartReason: string | null;
  /** What earlier supervisors counted of the resumed session's cost (a restart); null otherwise. */
  readonly resumedCostUsd?: number | null;
  /** What the supervisors before counted on the instance (a restart: the old one's status totals), carried into `status`. */
  readonly prior?: { readonly turns: number; readonly costUsd: number | null } | null;
  readonly signal: AbortSignal | undefined;
  readonly timeoutMs: number;
  /** Whether to give up (the instance is being removed); asked between steps and while waiting for the supervisor. */
  readonly abandoned?: (() => Promise<boolean>) | undefined;
  /** Told of slow steps (installing the agent's CLI). */
  readonly onNotice?: ((text: string) => void) | undefined;
  /**
   * The container runs on a host that shares no folder with this machine:
   * the supervisor's launch.json and prompt.md are copied into its instance
   * directory over the engine (the relay and the mirror carry the rest).
   */
  readonly filesInContainer?: boolean | undefined;
}

/**
 * Writes launch.json and prompt.md, installs the worker bundle, checks the
 * agent's executable and starts the supervisor; resolves with its first
 * status. The caller holds the instance's lock.
 */
export async function startSupervisor(project: OpenedProject, runtime: ContainerRuntime, container: ContainerDetails, paths: InstancePaths, start: SupervisorStart): Promise<WorkerStatus> {
  const workspaces = await project.ports.workspaces();
  const spec = await loadInstanceSpec(project, workspaces, start.instance, envFromList(container.env));
  const access = accessOf(spec, start.signal);
  const giveUpIfAbandoned = async (): Promise<void> => {
    if (start.abandoned !== undefined && (await start.abandoned())) throw removedMeanwhile(start.instance);
  };
  await giveUpIfAbandoned();
  await runtime.copyIn(container.id, await workerBundleFiles());
  await ensureAgentExecutable(runtime, container.id, { preset: start.preset, packageSpec: project.config.agent.package, access, onNotice: start.onNotice });
  const launch: Launch = {
    v: 1,
    instance: start.instance,
    preset: start.preset.name,
    command: project.config.agent.command ?? null,
    commandInput: project.config.agent.commandInput,
    model: project.config.agent.model ?? null,
    branch: start.instance,
    base: start.base,
    baseSha: start.baseSha,
    workdir: spec.spec.workspaceFolder,
    promptFile: `${INSTANCE_DIR_IN_CONTAINER}/${INSTANCE_FILES.prompt}`,
    resumeSessionId: start.resumeSessionId,
    restartReason: start.restartReason,
    resumedCostUsd: start.resumedCostUsd ?? null,
    priorTurns: start.prior?.turns ?? 0,
    priorCostUsd: start.prior?.costUsd ?? null,
    tokenPrice: priceFor(project.config.coordinator.prices, start.preset.name, project.config.agent.model ?? null),
    ...LAUNCH_DEFAULTS,
  };
  // Links a worker left in its directory (its own sabotage) would break the new supervisor's files: they go first.
  const planted = [...(await removePlantedLinks(paths.dir)), ...(await removePlantedLinks(paths.dir, [INSTANCE_FILES.outbox]).catch(() => []))];
  if (planted.length > 0) start.onNotice?.(`removed links planted in ${paths.dir}: ${planted.join(", ")}`);
  const launchText = `${JSON.stringify(launch, null, 2)}\n`;
  // The host's own copies, where no container writes: what restart and status read back.
  await writeHostFile(paths, HOST_FILES.prompt, start.prompt);
  await writeHostFile(paths, HOST_FILES.launch, launchText);
  // The supervisor's, in the directory its container can write (a link planted there is replaced, not followed).
  // Group-readable: the directory's group is the container user's (setgid), and the supervisor runs as that user.
  if (start.filesInContainer === true) {
    // Readable by the container user alone through its 0700 directory (warm made it so); root writes them.
    await runtime.copyIn(container.id, [
      { path: `${INSTANCE_DIR_IN_CONTAINER}/${INSTANCE_FILES.prompt}`, content: start.prompt, mode: 0o644 },
      { path: `${INSTANCE_DIR_IN_CONTAINER}/${INSTANCE_FILES.launch}`, content: launchText, mode: 0o644 },
    ]);
  } else {
    await writeUntrustedFile(paths.dir, INSTANCE_FILES.prompt, start.prompt, 0o640);
    await writeUntrustedFile(paths.dir, INSTANCE_FILES.launch, launchText, 0o640);
  }
  const env = agentEnvironment(project.config, project.env, spec.spec.remoteEnv);
  await giveUpIfAbandoned();
  await runtime.execDetached(container.id, ["node", `${WORKER_BUNDLE_DIR}/worker.cjs`, "supervise", INSTANCE_DIR_IN_CONTAINER], { ...access, env, signal: undefined });
  return waitForSupervisor(paths, start.instance, { timeoutMs: start.timeoutMs, signal: start.signal, giveUp: start.abandoned, giveUpError: () => removedMeanwhile(start.instance) });
}

function removedMeanwhile(instance: string): ExternalError {
  return new ExternalError(`instance ${instance} is being removed (cspace down): its agent was not started`);
}

function presetFor(name: string): AgentPreset {
  const preset = presetNamed(name);
  if (preset === null) throw new UserError(`"${name}" is not an agent preset`, { hint: `use one of ${Object.keys(PRESETS).join(", ")}` });
  return preset;
}

async function promptOf(options: UpOptions): Promise<string> {
  if (options.prompt !== undefined && options.promptFile !== undefined) throw new UserError("give --prompt or --prompt-file, not both");
  let text: string;
  if (options.promptFile !== undefined) {
    text = await readPromptFile(options.promptFile);
  } else if (options.prompt !== undefined) {
    text = options.prompt;
  } else {
    throw new UserError("say what the agent should do: --prompt <text> or --prompt-file <file>", { hint: 'cspace up issue-12 --prompt "fix the flaky test"; cspace issue 12 renders the issue\'s prompt' });
  }
  if (text.trim() === "") throw new UserError("the prompt is empty: the agent would have nothing to do");
  return text;
}

function alreadyRunning(instance: string, status: WorkerStatus): UserError {
  return new UserError(`instance ${instance} already runs a supervisor (agent ${status.preset}, ${status.state})`, {
    hint: `cspace send ${instance} "<message>" talks to it; cspace restart ${instance} starts it over`,
  });
}
