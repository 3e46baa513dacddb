import { instanceDirExists } from "./host-files.ts";
import { UserError } from "../../core/errors.ts";
import { onlyTheLocalHost, workerHosts } from "../../core/hosts/hosts.ts";
import { validateInstanceName } from "../../core/instances/names.ts";
import { openProject } from "../project.ts";
import { readAllEvents, tailEvents, type EventLine } from "./events.ts";
import { instancePaths, type InstancePaths } from "./instance-files.ts";
import { supervisorAnswers } from "./supervisor-client.ts";

export interface LogsOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly instance: string;
  /** Only events at or after this time. */
  readonly since?: Date | undefined;
  /** Keep reading new events as they come. */
  readonly follow: boolean;
  readonly signal?: AbortSignal | undefined;
  readonly onLine: (line: EventLine) => void;
}

/**
 * `cspace logs`: the instance's events.ndjson, the rotated file first. With
 * `follow`, new events are read as the supervisor writes them, until the
 * signal aborts (Ctrl-C) or the supervisor is gone: once it no longer
 * answers on w.sock, nothing more can be written, so the rest is read and
 * the command ends by itself. An agent that exits does not end it, since a
 * message can start the agent again while the supervisor lives. A worker on
 * another host is read from its container (a copy made for this command),
 * and followed until the copy stops (its container or host is gone).
 */
export async function showLogs(options: LogsOptions): Promise<{ readonly lines: number }> {
  const instance = validateInstanceName(options.instance);
  const project = await openProject(options);
  if (!onlyTheLocalHost(workerHosts(project.config))) {
    // A worker on another host: its own files, copied from its container for this command. Loaded only with several hosts.
    const { remoteWorker, withRemoteFiles } = await import("./remote-files.ts");
    const remote = await remoteWorker(project, instance);
    if (remote !== null) return withRemoteFiles(project, instance, remote, (paths, live) => printEvents(paths, options, () => Promise.resolve(live())));
  }
  const paths = instancePaths(project.runDir, instance);
  if (!(await instanceDirExists(paths))) {
    throw new UserError(`there is no instance "${instance}" in this project`, { hint: "cspace list shows the instances" });
  }
  return printEvents(paths, options, () => supervisorAnswers(paths));
}

/** The events of one instance directory, and with `follow` new ones until `stillWriting` says no more can come. */
async function printEvents(paths: InstancePaths, options: LogsOptions, stillWriting: () => Promise<boolean>): Promise<{ readonly lines: number }> {
  const since = options.since?.getTime();
  const wanted = (line: EventLine): boolean => since === undefined || line.event === null || Date.parse(line.event.ts) >= since;
  let count = 0;
  const emit = (line: EventLine): void => {
    if (!wanted(line)) return;
    count += 1;
    options.onLine(line);
  };
  if (!options.follow) {
    for (const line of await readAllEvents(paths)) emit(line);
    return { lines: count };
  }
  for await (const line of tailEvents(paths, { from: "start", signal: options.signal, stillWriting })) emit(line);
  return { lines: count };
}

/**
 * `--since`: a duration back from now (`90s`, `10m`, `2h`, `1d`; a bare
 * number is seconds) or a time (ISO 8601, like 2026-05-01T10:00:00Z).
 */
export function parseSince(text: string, now: Date = new Date()): Date {
  const duration = /^(\d+(?:\.\d+)?)(s|m|h|d)?$/.exec(text.trim());
  if (duration !== null) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[(duration[2] ?? "s") as "s" | "m" | "h" | "d"];
    return new Date(now.getTime() - Number(duration[1]) * unit);
  }
  const time = Date.parse(text);
  if (!Number.isNaN(time) && /\d{4}-\d{2}-\d{2}/.test(text)) return new Date(time);
  throw new UserError(`--since ${JSON.stringify(text)} is neither a duration nor a time`, { hint: "like --since 10m, --since 2h, --since 30 (seconds) or --since 2026-05-01T10:00:00Z" });
}
