import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { ExternalError } from "../../core/errors.ts";
import type { ExecOptions, ExecStream } from "../../core/instances/ports.ts";
import { dockerReason } from "./errors.ts";
import { execExitCode } from "./exec-exit.ts";

/**
 * Starts `command` in the container with stdin attached and no TTY, so its
 * stdout and stderr arrive multiplexed and stay apart (git's pack protocol
 * needs stdout untouched by stderr). Ending `stdin` half-closes the hijacked
 * connection: the engine then closes the command's input and goes on copying
 * its output until it exits.
 */
export async function startExecStream(docker: Docker, id: string, command: readonly string[], options: ExecOptions): Promise<ExecStream> {
  options.signal?.throwIfAborted();
  const failed = (error: unknown): ExternalError =>
    new ExternalError(`cannot run ${command.join(" ")} in container ${id.slice(0, 12)}: ${dockerReason(error)}`, { cause: error });
  let exec: Docker.Exec;
  let connection: NodeJS.ReadWriteStream & { destroy(): void };
  try {
    exec = await docker.getContainer(id).exec({
      Cmd: [...command],
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
      ...(options.user === undefined ? {} : { User: options.user }),
      ...(options.workdir === undefined ? {} : { WorkingDir: options.workdir }),
      ...(options.env === undefined ? {} : { Env: Object.entries(options.env).map(([key, value]) => `${key}=${value}`) }),
    });
    connection = (await exec.start({ hijack: true, stdin: true })) as NodeJS.ReadWriteStream & { destroy(): void };
  } catch (error) {
    throw failed(error);
  }
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  docker.modem.demuxStream(connection, stdout, stderr);
  // Both outputs end with the connection, however it ends: a reader waiting for the end of stdout is never left hanging.
  const ended = new Promise<void>((resolve) => {
    const finish = (): void => {
      stdout.end();
      stderr.end();
      resolve();
    };
    connection.on("end", finish);
    connection.on("close", finish);
    connection.on("error", finish);
  });
  const stdin = new PassThrough();
  stdin.pipe(connection);
  let dropped = false;
  const abort = (): void => {
    dropped = true;
    connection.destroy();
  };
  options.signal?.addEventListener("abort", abort, { once: true });
  const exit = ended.then(async () => {
    options.signal?.removeEventListener("abort", abort);
    try {
      // Dropped by the caller, the command may run on: ask once rather than wait for an end that may never come.
      if (dropped) {
        const state = await exec.inspect();
        if (state.Running || state.ExitCode === null) throw new ExternalError(`${command.join(" ")} in container ${id.slice(0, 12)} was left running when its stream was closed`);
        return state.ExitCode;
      }
      return await execExitCode(docker, id, exec);
    } catch (error) {
      if (error instanceof ExternalError) throw error;
      throw failed(error);
    }
  });
  // A caller that never asks how it ended must not see an unhandled rejection.
  exit.catch(() => undefined);
  return {
    stdin,
    stdout,
    stderr,
    exit,
    close: abort,
  };
}
