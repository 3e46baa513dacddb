import { ExternalError } from "../../core/errors.ts";
import { openProject } from "../project.ts";
import { eventsEnd, type EventLine, type EventsPosition } from "./events.ts";
import { followAgent, type FollowEnd } from "./follow.ts";
import { remoteWorker } from "./remote-files.ts";
import { withRemoteSession } from "./remote-session.ts";
import { supervisorAnswers } from "./supervisor-client.ts";

/** How long the supervisor may take to answer through the relay before the follow asks whether it is gone. */
const ANSWER_MS = 10_000;

/**
 * `up --follow` of a worker on another host: its events read from its
 * container through a mirror of this command's own (as `logs -f` reads
 * them), from where they ended before the supervisor started, until the
 * agent's `exited` event, the supervisor no longer answering through the
 * command's own relay, the container or its host gone, or the signal.
 */
export async function followRemoteAgent(options: {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly instance: string;
  /** A position in the container's events.ndjson: only its offset holds in a copy. */
  readonly from: EventsPosition | "start";
  readonly signal?: AbortSignal | undefined;
  readonly onLine: (line: EventLine) => void;
}): Promise<FollowEnd> {
  const project = await openProject(options);
  const worker = await remoteWorker(project, options.instance, { strict: true });
  if (worker === null) throw new ExternalError(`instance ${options.instance} is no longer on another host: there is nothing to follow there`, { hint: `cspace logs ${options.instance} -f` });
  return withRemoteSession(project, options.instance, worker, { files: true }, async (paths, live) => {
    // The copy is byte for byte the container's file (appends carry its offsets), in a file of its own: its inode, their offset.
    const end = await eventsEnd(paths);
    const from = options.from === "start" || end === null || end.offset < options.from.offset ? "start" : { ino: end.ino, offset: options.from.offset };
    return followAgent(paths, from, {
      signal: options.signal,
      onLine: options.onLine,
      stillWriting: async () => live() && (await supervisorAnswers(paths, ANSWER_MS)),
    });
  });
}
