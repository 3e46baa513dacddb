import type {
  AgentEventSeen,
  CollectOptions,
  LaunchRequest,
  Liveness,
  ReportHandler,
  SkippedHandler,
  VerifyOutcome,
  VerifyRequest,
  WarmOutcome,
  WarmRequest,
  WorkerHandlers,
  WorkerOutcome,
  WorkerPool,
} from "../../core/coordinator-runtime/ports.ts";
import type { CheckResult } from "../../core/doctor/checks.ts";
import { ExternalError } from "../../core/errors.ts";
import { LABELS } from "../../core/instances/labels.ts";
import { hasLocalHost, NO_LOCAL_HOST_IMAGE, onlyTheLocalHost, workerHosts } from "../../core/hosts/hosts.ts";
import { downInstances } from "../instances/down.ts";
import type { OpenedProject } from "../project.ts";
import { warm } from "../warm/warm.ts";
import { preflightChecks } from "../preflight/preflight.ts";
import { collectOutbox } from "../workers/outbox.ts";
import { askSupervisor } from "../workers/supervisor-client.ts";
import { pathsOf, sharedPorts, type PoolContext } from "./pool/context.ts";
import { collectBranch } from "./pool/collect.ts";
import { launchAgent } from "./pool/launch.ts";
import { CoordinatorSockets } from "./pool/listen.ts";
import { interruptIn } from "./pool/interrupt.ts";
import { livenessOf } from "./pool/probe.ts";
import { unreportedIn } from "./pool/spending.ts";
import type { UnreportedSpend } from "../../core/agents/worker-status.ts";
import { verifyIn } from "./pool/verify.ts";
import { lastAgentEventIn } from "./pool/agent-events.ts";
import { restartAgent } from "../workers/restart.ts";
import { RemoteWorkers } from "./pool/remote-workers.ts";
import { leaveOtherHosts } from "./pool/move.ts";

/**
 * The WorkerPool over real containers (docs/architecture.md, "The
 * coordinator's runtime"): warm through services/warm, supervisors through
 * services/workers, reports on each instance's c.sock and from its outbox.
 * Every method checks the world first, so a call repeated after a
 * coordinator crash is harmless.
 */
export class DockerWorkerPool implements WorkerPool {
  readonly #context: PoolContext;
  readonly #sockets: CoordinatorSockets;
  /** Every instance this pool warmed or was told about: `close({ down })` removes them. */
  readonly #instances = new Set<string>();

  constructor(project: OpenedProject) {
    this.#context = { project, remote: new RemoteWorkers(project) };
    this.#sockets = new CoordinatorSockets(this.#context);
  }

  async warm(request: WarmRequest): Promise<WarmOutcome> {
    this.#instances.add(request.instance);
    const { project } = this.#context;
    let host: string;
    try {
      // The launch brings the checkout to the forge's head itself (pool/checkout.ts): warm need not fetch it first.
      const result = await warm({
        cwd: project.projectDir,
        env: project.env,
        instances: [request.instance],
        base: request.base,
        reset: false,
        ports: sharedPorts(project),
        startFromForge: false,
        beyondSlots: true,
        onHost: request.to,
      });
      const outcome = result.instances[0];
      if (outcome?.status !== "ready") return { ok: false, error: outcome?.error?.message ?? `instance ${request.instance} was not made` };
      host = outcome.host;
      // Moved: the container it had on another host goes, so it never runs in two places.
      if (request.to !== undefined) await leaveOtherHosts(project, request.instance, host);
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error.message : String(error) };
    }
    // The instance's directory exists now: its reports can be listened for.
    await this.#sockets.ensure(request.instance);
    return { ok: true, host };
  }

  async launch(request: LaunchRequest): Promise<WorkerOutcome> {
    this.#instances.add(request.instance);
    // Listening before the agent starts: its report is never left to the outbox needlessly.
    await this.#sockets.ensure(request.instance);
    return launchAgent(this.#context, request);
  }

  async listen(instances: readonly string[], handlers: WorkerHandlers): Promise<void> {
    for (const instance of instances) this.#instances.add(instance);
    const notice = handlers.notice;
    if (notice !== undefined) this.#context.remote.onNotice(notice);
    await this.#sockets.listen(instances, handlers);
    // After a restart of the coordinator: the relays and mirrors of remote workers already at work, so their reports reach c.sock.
    await Promise.all(instances.map((instance) => this.#reattach(instance)));
  }

  collect(instance: string, branch: string, options: CollectOptions = {}): Promise<{ readonly repository: string; readonly sha: string } | null> {
    const { remote, project } = this.#context;
    return collectBranch({ remote, lostAfterSeconds: project.config.workers.lostAfterSeconds }, instance, branch, options);
  }

  /** A remote worker's relay and mirror, opened when its container runs; one that cannot be reached is left to the probe. */
  async #reattach(instance: string): Promise<void> {
    const remote = await this.#context.remote.of(instance).catch(() => null);
    if (remote?.container.state !== "running") return;
    await this.#context.remote.attach(remote).catch(() => undefined);
  }

  async collectPending(instances: readonly string[], onReport: ReportHandler, onSkipped?: SkippedHandler): Promise<number> {
    let count = 0;
    for (const instance of instances) {
      // A remote worker's reports reach the host's directory through its mirror: what it holds now is copied first.
      await this.#context.remote.synced(instance).catch(() => undefined);
      // The runtime drops a report it has already recorded (by id), so every file is handed over; each is moved only after.
      const collected = await collectOutbox(pathsOf(this.#context, instance), { has: () => false, persist: (report) => onReport(instance, report) });
      count += collected.collected.length;
      for (const { file, reason } of collected.unreadable) onSkipped?.(instance, `outbox file ${file} skipped: ${reason}`);
    }
    return count;
  }

  verify(request: VerifyRequest): Promise<VerifyOutcome> {
    return verifyIn(this.#context, request);
  }

  interrupt(instance: string): Promise<void> {
    return interruptIn(this.#context, instance);
  }

  async probe(instances: readonly string[]): Promise<ReadonlyMap<string, Liveness>> {
    const states = await Promise.all(instances.map(async (instance) => [instance, await livenessOf(this.#context, instance)] as const));
    return new Map(states);
  }

  async spending(instances: readonly string[]): Promise<ReadonlyMap<string, UnreportedSpend>> {
    const figures = await Promise.all(instances.map(async (instance) => [instance, await unreportedIn(this.#context, instance)] as const));
    return new Map(figures.flatMap(([instance, spend]) => (spend === null ? [] : [[instance, spend] as const])));
  }

  async watch(onSuspect: (instance: string) => void): Promise<() => void> {
    const { project } = this.#context;
    const onStopped = (labels: Readonly<Record<string, string>>): void => {
      const instance = labels[LABELS.instance];
      if (instance !== undefined) onSuspect(instance);
    };
    const hosts = workerHosts(project.config);
    // This machine's engine only when some host is it: workers all elsewhere (a cluster, say) need no engine here.
    const stops = hasLocalHost(hosts) ? [(await project.ports.localRuntime()).watchStopped({ [LABELS.project]: project.projectId }, onStopped)] : [];
    // Every remote engine that answers is watched too; one that does not is left to the probe (every 10 s), which then calls its workers lost.
    if (!onlyTheLocalHost(hosts)) {
      const hosts = await project.ports.hosts();
      for (const answer of await hosts.all()) {
        if (answer.runtime !== undefined && answer.host.kind !== "local") stops.push(answer.runtime.watchStopped({ [LABELS.project]: project.projectId }, onStopped));
      }
    }
    const unsubscribers = await Promise.all(stops);
    return () => {
      for (const stop of unsubscribers) stop();
    };
  }

  async tell(instance: string, text: string): Promise<void> {
    const paths = pathsOf(this.#context, instance);
    // A message after the agent exited would start another run, outside any attempt the coordinator knows: not sent then.
    const { status } = await askSupervisor(paths, instance, "status");
    if (status.state === "exited") throw new ExternalError(`the agent of ${instance} already finished: the message was not sent`);
    await askSupervisor(paths, instance, "send", { text, from: "coordinator" });
  }

  async preflight(signal?: AbortSignal): Promise<readonly CheckResult[]> {
    const { project } = this.#context;
    // The image is probed on this machine's engine; with no host here, where each worker starts (a cluster's nodes pull it).
    if (!hasLocalHost(workerHosts(project.config))) return preflightChecks(project, { runtime: null, noEngine: NO_LOCAL_HOST_IMAGE, prepare: true, signal });
    return preflightChecks(project, { runtime: await project.ports.localRuntime(), prepare: true, signal });
  }

  async lastAgentEvents(instances: readonly string[]): Promise<ReadonlyMap<string, AgentEventSeen>> {
    const seen = await Promise.all(instances.map(async (instance) => [instance, await lastAgentEventIn(this.#context, instance)] as const));
    return new Map(seen.flatMap(([instance, event]) => (event === null ? [] : [[instance, event] as const])));
  }

  async restart(instance: string, reason: string): Promise<void> {
    const { project } = this.#context;
    // An agent that finished has its report on the way: restarting it would start a run outside any attempt.
    // A supervisor that does not answer is what a restart is for: it is stopped by its pid.
    const answer = await askSupervisor(pathsOf(this.#context, instance), instance, "status").catch(() => null);
    if (answer?.status.state === "exited") throw new ExternalError(`the agent of ${instance} already finished: it was not restarted`);
    // `cspace restart`'s own path: the old supervisor's report says `restarted`, so the attempt stays open.
    await restartAgent({ cwd: project.projectDir, env: project.env, instance, reason, ports: sharedPorts(project) });
  }

  async close(options: { readonly down?: boolean } = {}): Promise<void> {
    await this.#sockets.close();
    await this.#context.remote.close();
    if (options.down !== true || this.#instances.size === 0) return;
    const { project } = this.#context;
    await downInstances({ cwd: project.projectDir, env: project.env, instances: [...this.#instances].sort(), all: false, ports: sharedPorts(project) });
  }
}
