import type { FakePod } from "./pods.ts";
import type { ServerSocket } from "./websocket.ts";

/** The channel numbers of the Kubernetes streaming protocol (k8s.io/apimachinery/pkg/util/remotecommand). */
const STDIN = 0;
const STDOUT = 1;
const STDERR = 2;
const STATUS = 3;
const RESIZE = 4;
/** v5 only: [255, channel] closes that channel (the client's end of input) without closing the connection. */
const CLOSE = 255;

/**
 * One exec, as the apiserver and kubelet serve it: every message is one
 * channel byte then data; stdout and stderr go out on channels 1 and 2; when
 * the command has exited and its output is drained, a metav1.Status on
 * channel 3 says how (NonZeroExitCode with an ExitCode cause, the shape
 * client-node parses), then the connection closes. Before v5 a client can
 * only signal end of input by closing the connection, losing the status.
 */
export function serveExec(pod: FakePod, params: URLSearchParams, socket: ServerSocket): void {
  const command = params.getAll("command");
  const wantsStdin = params.get("stdin") === "true";
  const send = (channel: number, data: Buffer | string): void => {
    socket.send(Buffer.concat([Buffer.from([channel]), typeof data === "string" ? Buffer.from(data) : data]));
  };
  let child: ReturnType<FakePod["exec"]>;
  try {
    child = pod.exec(command, wantsStdin);
  } catch (error) {
    send(STATUS, JSON.stringify(failure(`exec failed: ${error instanceof Error ? error.message : String(error)}`)));
    socket.close();
    return;
  }
  if (params.get("stdout") === "true") child.stdout?.on("data", (chunk: Buffer) => { send(STDOUT, chunk); });
  else child.stdout?.resume();
  if (params.get("stderr") === "true") child.stderr?.on("data", (chunk: Buffer) => { send(STDERR, chunk); });
  else child.stderr?.resume();
  // A write after the command stopped reading is not the connection's failure.
  child.stdin?.on("error", () => undefined);
  socket.onMessage((data) => {
    const channel = data[0];
    if (channel === STDIN) child.stdin?.write(data.subarray(1));
    else if (channel === CLOSE && socket.protocol === "v5.channel.k8s.io" && data[1] === STDIN) child.stdin?.end();
    else if (channel === RESIZE) return;
  });
  // The client went away: the command's input ends with it (a command that does not read it goes on, as on a kubelet).
  socket.onClose(() => child.stdin?.end());
  child.on("error", (error) => {
    send(STATUS, JSON.stringify(failure(`exec failed: unable to start container process: ${error.message}`)));
    socket.close();
  });
  child.on("close", (code, signal) => {
    const exitCode = code ?? (signal === null ? 1 : 128 + 9);
    send(STATUS, JSON.stringify(exitCode === 0 ? { metadata: {}, status: "Success" } : nonZero(command, exitCode)));
    socket.close();
  });
}

function nonZero(command: readonly string[], exitCode: number): object {
  return {
    metadata: {},
    status: "Failure",
    message: `command terminated with non-zero exit code: error executing command [${command.join(" ")}], exit code ${String(exitCode)}`,
    reason: "NonZeroExitCode",
    details: { causes: [{ reason: "ExitCode", message: String(exitCode) }] },
  };
}

function failure(message: string): object {
  return { metadata: {}, status: "Failure", message, reason: "InternalError", code: 500 };
}
