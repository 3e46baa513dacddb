import { stat } from "node:fs/promises";
import { newRequestId, request } from "../../adapters/messaging/client.ts";
import { MessagingError } from "../../adapters/messaging/errors.ts";
import { ExternalError, UserError } from "../../core/errors.ts";
import { COORDINATOR_INSTANCE, validateInstanceName } from "../../core/instances/names.ts";
import { openProject } from "../project.ts";
import { instancePaths } from "./instance-files.ts";

/**
 * `cspace send`: one message, one request on the instance's w.sock. This is
 * the path people and scripts call most, so it loads the configuration and
 * the messaging client only: no engine, no forge, no presets. Whether the
 * instance exists is read from its run directory, not from Docker.
 */

export interface SendOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly instance: string;
  readonly text: string;
  readonly timeoutMs?: number | undefined;
}

export interface SendResult {
  readonly instance: string;
  /** Always true: the supervisor queued it (delivery to the agent follows as it can take it). */
  readonly queued: boolean;
  /** Messages waiting for the agent, this one included. */
  readonly queueDepth: number;
}

export async function sendMessage(options: SendOptions): Promise<SendResult> {
  // Checked before anything is read, so an empty message never reaches anyone.
  if (options.text.trim() === "") throw new UserError("the message is empty: nothing was sent", { hint: 'cspace send issue-12 "<text>", or pipe it: echo "<text>" | cspace send issue-12 -' });
  if (options.instance === COORDINATOR_INSTANCE) {
    throw new ExternalError("no coordinator is running for this project", {
      hint: "on the host, message a worker by its instance name (cspace send issue-12 …); workers reach the coordinator with `cspace send _coordinator` inside their container",
    });
  }
  const instance = validateInstanceName(options.instance);
  const project = await openProject(options);
  const paths = instancePaths(project.runDir, instance);
  const exists = await stat(paths.dir).then((s) => s.isDirectory(), () => false);
  if (!exists) {
    throw new ExternalError(`there is no instance "${instance}" in this project`, {
      hint: `cspace up ${instance} --prompt "<task>" starts one; cspace list shows what there is`,
    });
  }
  let reply;
  try {
    reply = await request(paths.workerSocket, { v: 1, id: newRequestId(), cmd: "send", text: options.text, from: "host" }, { timeoutMs: options.timeoutMs ?? 5_000 });
  } catch (error) {
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
  return { instance, queued: reply.queued === true, queueDepth: typeof reply.queueDepth === "number" ? reply.queueDepth : 0 };
}
