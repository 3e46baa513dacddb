import { UserError } from "../errors.ts";
import type { CoordinatorHolder } from "./port.ts";

/**
 * The refusal a second coordinator gets, the same from the real lock and its
 * fake: who runs, where and since when, and what the user can do.
 */
export function coordinatorRunning(holder: CoordinatorHolder, options: { lockFile?: string | undefined; localHost?: string | undefined } = {}): UserError {
  const where = options.localHost === undefined || holder.host === options.localHost ? `process ${String(holder.pid)} on ${holder.host}` : `process ${String(holder.pid)} on another host, ${holder.host}`;
  const remote = options.localHost !== undefined && holder.host !== options.localHost;
  const hint = remote
    ? `cspace cannot tell whether a process on ${holder.host} still runs: if that coordinator is gone, delete ${options.lockFile ?? "its lock file"}`
    : `follow it with \`cspace status\`, or stop it (kill ${String(holder.pid)}) and continue its run with \`cspace coordinate --resume\``;
  return new UserError(`a coordinator is already running for this project: ${where}, since ${holder.startedAt}`, { hint });
}
