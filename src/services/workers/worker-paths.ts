import { createConnection } from "node:net";
import { onlyTheLocalHost, workerHosts } from "../../core/hosts/hosts.ts";
import type { OpenedProject } from "../project.ts";
import { instancePaths, type InstancePaths } from "./instance-files.ts";
import type { RemoteWorker } from "./remote-files.ts";

/**
 * The instance's paths with a w.sock that reaches its supervisor, for
 * `send`, `status`, `interrupt`, `restart` and `up`: the project's own when
 * something serves its w.sock (a local supervisor, or a running
 * coordinator's relay for a remote worker), which is always so with only the
 * local engine configured; otherwise, for a worker on another host, a
 * one-off session (remote-session.ts) for the duration of `work`. Loaded by
 * `send`'s fast path: the engine and the relay are imported only when a
 * remote worker needs them.
 */
export async function withWorkerPaths<T>(
  project: OpenedProject,
  instance: string,
  options: { readonly files: boolean },
  work: (paths: InstancePaths, remote: RemoteWorker | null) => Promise<T>,
): Promise<T> {
  const paths = instancePaths(project.runDir, instance);
  if (onlyTheLocalHost(workerHosts(project.config)) || (await socketServed(paths.workerSocket))) return work(paths, null);
  const [{ remoteWorker }, { withRemoteSession }] = await Promise.all([import("./remote-files.ts"), import("./remote-session.ts")]);
  // A host that does not answer is an error naming it: this machine's copy of the directory cannot answer for the worker.
  const worker = await remoteWorker(project, instance, { strict: true });
  // Here, gone, or stopped: what the project's own directory says is all there is.
  if (worker?.container.state !== "running") return work(paths, null);
  return withRemoteSession(project, instance, worker, options, (session) => work(session, worker));
}

/** Whether a process accepts connections on the socket now (refused or absent: no). */
export function socketServed(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection(socketPath);
    const settle = (served: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(served);
    };
    // A peer that neither accepts nor refuses holds the socket: asking it is the request's to time out.
    const timer = setTimeout(() => { settle(true); }, 1_000);
    socket.once("connect", () => { settle(true); });
    socket.once("error", (error: NodeJS.ErrnoException) => { settle(error.code !== "ENOENT" && error.code !== "ECONNREFUSED"); });
  });
}
