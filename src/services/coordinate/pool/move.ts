import { LABELS } from "../../../core/instances/labels.ts";
import { checkoutVolumeName } from "../../../core/workspaces/transport.ts";
import type { OpenedProject } from "../../project.ts";

/**
 * After the coordinator moved an instance to `kept` (a warm with `to`): its
 * containers on every other host that answers are removed, so one instance
 * never runs in two places, and on a remote host its checkout volume too once
 * nothing of the instance is left on that engine (two host names may reach one
 * engine). Its work is on the forge: a move happens only between attempts. A
 * host that does not answer keeps what it has until `down --all`; the names of
 * the hosts cleared are returned.
 */
export async function leaveOtherHosts(project: OpenedProject, instance: string, kept: string): Promise<string[]> {
  const runtimes = await project.ports.hosts();
  const labels = { [LABELS.project]: project.projectId, [LABELS.instance]: instance };
  const cleared: string[] = [];
  for (const answer of await runtimes.all()) {
    const runtime = answer.runtime;
    if (runtime === undefined) continue;
    const containers = await runtime.list(labels).catch(() => null);
    if (containers === null) continue;
    const elsewhere = containers.filter((container) => (container.labels[LABELS.host] ?? answer.host.name) !== kept);
    if (elsewhere.length === 0) continue;
    for (const container of elsewhere) await runtime.remove(container.id);
    // After the container: a volume a container still uses cannot go.
    if (answer.host.kind !== "local" && (await runtime.list(labels)).length === 0) await runtime.removeVolume(checkoutVolumeName(project.projectId, instance));
    cleared.push(answer.host.name);
  }
  return cleared;
}
