import { UserError } from "../../core/errors.ts";
import type { WorkerHost } from "../../core/hosts/hosts.ts";
import { freeSlots, placeWorker } from "../../core/hosts/placement.ts";
import type { HostRuntimes } from "../../core/hosts/ports.ts";
import { LABELS } from "../../core/instances/labels.ts";
import type { Project } from "../project.ts";

/** Where each instance of a warm goes, and the hosts that did not answer (nothing is placed there). */
export interface Placement {
  readonly hostOf: ReadonlyMap<string, WorkerHost>;
  readonly lost: ReadonlySet<string>;
  /** Gives up the slots this placement holds for containers not made yet (the warm has ended). */
  readonly release: () => void;
}

/**
 * Slots held by warms of this process that have placed instances and not yet
 * made their containers, by project: the coordinator warms its instances
 * concurrently, and each warm would otherwise count the same free slot.
 * Placements of one project are decided one at a time.
 */
const held = new Map<string, Map<string, string>>();
const deciding = new Map<string, Promise<unknown>>();

/**
 * Places the instances of a warm on the configured hosts (`workers.hosts`,
 * `workers.placement`). Every host is asked what of this project it runs:
 * an instance that has a container stays on its host (its work is there),
 * unless that host does not answer; the others take free slots, counted
 * from the containers running on each host now, in the order named. A host
 * that does not answer gets nothing. Refused before anything is made when
 * the slots cannot hold every instance asked for.
 */
export async function placeInstances(project: Project, runtimes: HostRuntimes, instances: readonly string[], options: PlacementOptions = {}): Promise<Placement> {
  const before = deciding.get(project.projectId) ?? Promise.resolve();
  const decided = before.then(() => decide(project, runtimes, instances, options));
  const settled = decided.catch(() => undefined);
  deciding.set(project.projectId, settled);
  void settled.then(() => {
    if (deciding.get(project.projectId) === settled) deciding.delete(project.projectId);
  });
  return decided;
}

export interface PlacementOptions {
  /**
   * With every slot taken, place on the usable host least loaded for its
   * slots instead of refusing: the coordinator warms every issue's instance
   * up front, and those beyond the slots wait for their turn to launch
   * (coordinator.maxParallel bounds the agents at work).
   */
  readonly beyondSlots?: boolean | undefined;
  /**
   * Every instance goes to this host, wherever it is now (the coordinator
   * moves an issue held by its full host to one with a slot free). Refused
   * when the host is not configured or does not answer.
   */
  readonly onHost?: string | undefined;
}

async function decide(project: Project, runtimes: HostRuntimes, instances: readonly string[], options: PlacementOptions): Promise<Placement> {
  const hosts = runtimes.hosts;
  const answers = await runtimes.all();
  const lost = new Set(answers.filter((answer) => answer.error !== undefined).map((answer) => answer.host.name));
  const configured = new Set(hosts.map((host) => host.name));
  const running: Record<string, number> = {};
  const current = new Map<string, string>();
  const alreadyRunning = new Set<string>();
  await Promise.all(
    answers.map(async (answer) => {
      if (answer.runtime === undefined) return;
      let containers: Awaited<ReturnType<typeof answer.runtime.list>>;
      try {
        containers = await answer.runtime.list({ [LABELS.project]: project.projectId });
      } catch {
        // Answered when opened, silent now: nothing goes there.
        lost.add(answer.host.name);
        return;
      }
      for (const container of containers) {
        // The label says which host made it (two names may reach one engine); one without it is the engine's own.
        const labelled = container.labels[LABELS.host];
        const host = labelled !== undefined && configured.has(labelled) ? labelled : answer.host.name;
        if (container.state === "running") running[host] = (running[host] ?? 0) + 1;
        const instance = container.labels[LABELS.instance];
        if (instance !== undefined) current.set(instance, host);
        if (instance !== undefined && container.state === "running") alreadyRunning.add(instance);
      }
    }),
  );
  const holding = held.get(project.projectId) ?? new Map<string, string>();
  held.set(project.projectId, holding);
  // Another warm's instance placed but not made yet takes its slot as if it ran.
  for (const [instance, host] of holding) if (!alreadyRunning.has(instance) && !instances.includes(instance)) running[host] = (running[host] ?? 0) + 1;
  const hostOf = new Map<string, WorkerHost>();
  const policy = project.config.workers.placement;
  const slots = hosts.map((host) => ({ name: host.name, slots: host.slots }));
  if (options.onHost !== undefined && !configured.has(options.onHost)) throw new UserError(`host ${options.onHost} is not in workers.hosts`);
  if (options.onHost !== undefined && lost.has(options.onHost)) throw new UserError(`host ${options.onHost} does not answer: nothing was made there`);
  for (const instance of instances) {
    const had = current.get(instance);
    const name = options.onHost ?? placeWorker({ hosts: slots, running, lost, policy, current: had }) ?? (options.beyondSlots === true ? leastLoaded(slots, running, lost) : null);
    if (name === null) {
      const free = freeSlots({ hosts: slots, running, lost }).map((host) => `${host.name} ${String(Math.max(0, host.free))}`);
      const why = [...(free.length > 0 ? [`free slots: ${free.join(", ")}`] : []), ...(lost.size > 0 ? [`not answering: ${[...lost].join(", ")}`] : [])];
      throw new UserError(`no host has a free slot for ${instance} (${why.join("; ")})`, {
        hint: "Warm fewer instances, raise a host's slots in workers.hosts, or remove workers you no longer need (cspace down).",
      });
    }
    const host = hosts.find((candidate) => candidate.name === name);
    if (host === undefined) throw new UserError(`placement chose ${name}, which is not configured`);
    // A new or restarted container takes a slot now; one running where it stays already holds its own.
    if (had !== name || !alreadyRunning.has(instance)) running[name] = (running[name] ?? 0) + 1;
    hostOf.set(instance, host);
  }
  for (const [instance, host] of hostOf) holding.set(instance, host.name);
  const release = (): void => {
    for (const [instance, host] of hostOf) if (holding.get(instance) === host.name) holding.delete(instance);
    if (holding.size === 0 && held.get(project.projectId) === holding) held.delete(project.projectId);
  };
  return { hostOf, lost, release };
}

/** The usable host with the fewest workers for its slots (the first in config order among equals); null when none is usable. */
function leastLoaded(hosts: readonly { readonly name: string; readonly slots: number }[], running: Readonly<Record<string, number>>, lost: ReadonlySet<string>): string | null {
  let best: { readonly name: string; readonly load: number } | null = null;
  for (const host of hosts) {
    if (lost.has(host.name)) continue;
    // Own keys only, as placeWorker reads them.
    const load = (Object.hasOwn(running, host.name) ? (running[host.name] ?? 0) : 0) / host.slots;
    if (best === null || load < best.load) best = { name: host.name, load };
  }
  return best?.name ?? null;
}
