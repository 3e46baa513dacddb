import { instanceDirExists } from "./host-files.ts";
import { newRequestId, request } from "../../adapters/messaging/client.ts";
import { BadReplyError, ConnectionClosedError, MessagingError, RequestTimeoutError } from "../../adapters/messaging/errors.ts";
import { ExternalError, UserError } from "../../core/errors.ts";
import { COORDINATOR_INSTANCE, validateInstanceName } from "../../core/instances/names.ts";
import { operatorSocketPath } from "../../core/run-dir.ts";
import { openProject } from "../project.ts";
import { instancePaths } from "./instance-files.ts";
import { askWorker } from "./supervisor-client.ts";
import { withWorkerPaths } from "./worker-paths.ts";

/**
 * `cspace send`: one message, one request on the instance's w.sock. This is
 * the path people and scripts call most, so it loads the configuration and
 * the messaging client only: no engine, no forge, no presets. Whether the
 * instance exists is read from its run directory, not from Docker. Only a
 * worker on another host whose w.sock nobody serves here (no coordinator
 * runs) loads the engine, for a relay of its own (worker-paths.ts).
 */

export interface SendOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly instance: string;
  readonly text: string;
  readonly timeoutMs?: number | undefined;
}

/** What `cspace send _coordinator` answers: what the running coordinator did with the command. */
export interface CoordinatorAnswer {
  readonly instance: typeof COORDINATOR_INSTANCE;
  readonly answer: string;
}

export interface SendResult {
  readonly instance: string;
  /** Always true: the supervisor queued it (delivery to the agent follows as it can take it). */
  readonly queued: boolean;
  /** Messages waiting for the agent, this one included. */
  readonly queueDepth: number;
}

export async function sendMessage(options: SendOptions): Promise<SendResult | CoordinatorAnswer> {
  // Checked before anything is read, so an empty message never reaches anyone.
  if (options.text.trim() === "") throw new UserError("the message is empty: nothing was sent", { hint: 'cspace send issue-12 "<text>", or pipe it: echo "<text>" | cspace send issue-12 -' });
  if (options.instance === COORDINATOR_INSTANCE) return tellCoordinator(options);
  const instance = validateInstanceName(options.instance);
  const project = await openProject(options);
  const paths = instancePaths(project.runDir, instance);
  const exists = await instanceDirExists(paths);
  if (!exists) {
    throw new ExternalError(`there is no instance "${instance}" in this project`, {
      hint: `cspace up ${instance} --prompt "<task>" starts one; cspace list shows what there is`,
    });
  }
  let reply;
  try {
    // A remote worker with no coordinator running is reached through a relay of this command's own.
    reply = await withWorkerPaths(project, instance, { files: false }, (reached) => askWorker(reached, "send", { text: options.text }, options.timeoutMs ?? 5_000));
  } catch (error) {
    // Someone answered, wrongly or too slowly: said as it is (naming the instance), not as "no supervisor".
    if (error instanceof BadReplyError) throw error;
    if (error instanceof RequestTimeoutError) throw new RequestTimeoutError(error.socketPath, error.message, { hint: notAnsweredHint(instance), cause: error });
    // Taken, then the connection ended with no reply (a supervisor that died, a remote worker's relay cut as it
    // answered): the message may have reached the agent, so this is not "no supervisor", and a blind resend may repeat it.
    if (error instanceof ConnectionClosedError) {
      throw new ExternalError(`the connection to instance "${instance}"'s supervisor closed before it answered: the message may or may not have been taken`, {
        hint: `cspace logs ${instance} shows each message delivered to the agent: look there before sending it again; cspace list shows whether its supervisor runs`,
        cause: error,
      });
    }
    if (error instanceof MessagingError) {
      throw new ExternalError(`no supervisor is running for instance "${instance}": ${error.message}`, {
        hint: `cspace up ${instance} --prompt "<task>" starts its agent (cspace restart ${instance} starts it again with its last prompt); cspace list shows its state`,
        cause: error,
      });
    }
    throw error;
  }
  if (!reply.ok) {
    throw new ExternalError(`${instance}'s supervisor did not take the message: ${reply.error.message} (${reply.error.code})`, {
      hint: reply.error.code === "not-running" ? `cspace restart ${instance} starts its agent again` : undefined,
    });
  }
  return { instance, queued: reply.queued, queueDepth: reply.queueDepth };
}

/**
 * What a user needs after a send that timed out: whether to send it again. Most
 * often the worker is on another host that does not answer now (sshd
 * restarting, the network down): its relay waits for the host, and drops what
 * a send that gave up carried rather than deliver it later.
 */
function notAnsweredHint(instance: string): string {
  return (
    `the message may not have been queued: cspace logs ${instance} shows each message delivered to the agent, so look there before sending it again. ` +
    "For a worker on another host that is not answering (sshd or the network down), a send that gave up is dropped, not delivered later. " +
    `A supervisor that never answers may have been replaced: cspace restart ${instance} starts a new one`
  );
}

/**
 * A person's command to the project's running coordinator, on its own socket
 * in the run directory: answered once the coordinator has recorded it.
 */
async function tellCoordinator(options: SendOptions): Promise<CoordinatorAnswer> {
  const project = await openProject(options);
  let reply;
  try {
    reply = await request(operatorSocketPath(project.runDir), { v: 1, id: newRequestId(), cmd: "send", text: options.text, from: "host" }, { timeoutMs: options.timeoutMs ?? 10_000 });
  } catch (error) {
    if (error instanceof MessagingError) {
      throw new ExternalError("no coordinator is running for this project", {
        hint: "cspace status shows the latest run; cspace coordinate --resume carries an unfinished one on. Workers are messaged by name: cspace send issue-12 …",
        cause: error,
      });
    }
    throw error;
  }
  if (!reply.ok) {
    if (reply.error.code === "bad-request") throw new UserError(reply.error.message);
    throw new ExternalError(`the coordinator did not take the command: ${reply.error.message} (${reply.error.code})`);
  }
  return { instance: COORDINATOR_INSTANCE, answer: typeof reply.text === "string" ? reply.text : "done" };
}
