import { decodeEvent } from "../../core/coordinator/codec.ts";
import { replay } from "../../core/coordinator/state.ts";
import { UserError } from "../../core/errors.ts";
import type { OpenedProject } from "../project.ts";

/**
 * `warm --reset` remakes an instance from scratch: under a running
 * coordinator that destroys the attempt it is waiting for, silently. So an
 * instance that the running coordinator's run uses is refused, naming the
 * run and its holder, unless `--force`. Nothing is opened when no
 * coordinator holds the lock (the common case costs one file read).
 */
export async function refuseResetUnderCoordinator(project: OpenedProject, instances: readonly string[]): Promise<void> {
  const holder = await (await project.ports.coordinatorLock()).holder();
  if (holder === undefined) return;
  const store = await project.ports.eventStore();
  let runId = "(unknown)";
  let used: readonly string[];
  try {
    const latest = await store.latestRun();
    if (latest !== undefined) runId = latest.runId;
    const state = latest === undefined ? null : replay((await store.read(latest.runId)).map(decodeEvent));
    used = state === null ? [] : instances.filter((name) => Object.values(state.issues).some((issue) => issue.branch === name));
  } catch {
    // A log that cannot be read says nothing about which instances are free: every one named is taken as used.
    used = instances;
  } finally {
    await store.close();
  }
  if (used.length === 0) return;
  throw new UserError(
    `${used.join(", ")} ${used.length === 1 ? "is" : "are"} used by the coordinator running now (run ${runId}, pid ${String(holder.pid)} on ${holder.host}, since ${holder.startedAt}): --reset would destroy its attempt`,
    { hint: `Let the run end, or skip the issue first (cspace send _coordinator "skip <N>"); pass --force to reset anyway.` },
  );
}
