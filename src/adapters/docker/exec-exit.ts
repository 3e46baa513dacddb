import { Readable } from "node:stream";
import type Docker from "dockerode";
import { ExternalError } from "../../core/errors.ts";

/** The engine's events that end an exec: its own exit, or its container's. */
const ENDING_ACTIONS = ["exec_die", "die", "destroy"];

/**
 * The exit code of an exec whose output has ended. The engine may end the
 * output before it records the exit — with a TTY the output closes with the
 * process and the exit is handled after: asked at once, the exec still says
 * running, with no exit code (most of the time on a busy machine). So when
 * the first answer has no exit code, the exit is awaited as the engine's own
 * `exec_die` event, subscribed to before the exec is asked again, so that it
 * cannot pass unseen in between.
 */
export async function execExitCode(docker: Docker, containerId: string, exec: Docker.Exec, signal?: AbortSignal): Promise<number> {
  const first = await exec.inspect();
  if (!first.Running && first.ExitCode !== null) return first.ExitCode;
  const filters = { type: ["container"], container: [containerId], event: ENDING_ACTIONS };
  const events = await docker.getEvents({ filters: JSON.stringify(filters) });
  // The engine's answer is an HTTP response, which is a Readable; anything else could not be closed.
  if (!(events instanceof Readable)) throw new Error("the engine's event stream is not a readable stream");
  try {
    const again = await exec.inspect();
    if (!again.Running && again.ExitCode !== null) return again.ExitCode;
    const ending = await endingEvent(events, exec.id, signal);
    const code = ending.exitCode ?? (await exec.inspect()).ExitCode;
    if (code === null) {
      throw new ExternalError(`container ${containerId.slice(0, 12)} stopped while a command ran in it: its exit code is unknown`);
    }
    return code;
  } finally {
    events.destroy();
  }
}

/** Resolves with the exec's `exec_die` (and its exit code) or its container's end; rejects when the stream ends first or the signal aborts. */
function endingEvent(events: Readable, execId: string, signal: AbortSignal | undefined): Promise<{ readonly exitCode: number | null }> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
      return;
    }
    const abort = (): void => {
      reject(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
    };
    signal?.addEventListener("abort", abort, { once: true });
    let partial = "";
    events.setEncoding("utf8");
    events.on("data", (chunk: string) => {
      partial += chunk;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) {
        const event = parse(line);
        if (event === null) continue;
        if (event.action === "exec_die" && event.attributes.execID === execId) {
          const code = Number(event.attributes.exitCode);
          resolve({ exitCode: Number.isInteger(code) ? code : null });
        } else if (event.action === "die" || event.action === "destroy") {
          resolve({ exitCode: null });
        }
      }
    });
    const ended = (error?: Error): void => {
      reject(new ExternalError(`the engine's event stream ended before the exec ${execId.slice(0, 12)} did: ${error?.message ?? "closed"}`));
    };
    events.on("error", ended);
    events.on("close", () => {
      signal?.removeEventListener("abort", abort);
      ended();
    });
  });
}

function parse(line: string): { readonly action: string; readonly attributes: Readonly<Record<string, unknown>> } | null {
  if (line.trim() === "") return null;
  try {
    const event = JSON.parse(line) as { Action?: unknown; Actor?: { Attributes?: Record<string, unknown> } };
    return typeof event.Action === "string" ? { action: event.Action, attributes: event.Actor?.Attributes ?? {} } : null;
  } catch {
    return null;
  }
}
