import type { ContainerRuntime } from "../instances/ports.ts";
import type { WorkerHost } from "./hosts.ts";

/**
 * A host's engine, opened: its ContainerRuntime and how to let go of what
 * holds it open (an SSH connection, a Kubernetes watch). Closing the local
 * engine's does nothing.
 */
export interface HostConnection {
  readonly runtime: ContainerRuntime;
  close(): Promise<void>;
}

/** One host's answer when every host is asked at once: its engine, or why it did not answer. */
export type HostAnswer =
  | { readonly host: WorkerHost; readonly runtime: ContainerRuntime; readonly error?: undefined }
  | { readonly host: WorkerHost; readonly runtime?: undefined; readonly error: Error };

/**
 * The ContainerRuntime of each configured host (`workers.hosts`), each
 * opened on first use and checked to answer. The local host's is the
 * project's own runtime (ports.runtime()).
 */
export interface HostRuntimes {
  /** The configured hosts, in config order. */
  readonly hosts: readonly WorkerHost[];
  /**
   * The host's engine, checked to answer: a UserError for a name not
   * configured, an ExternalError naming the host when it does not answer.
   */
  get(name: string): Promise<ContainerRuntime>;
  /** Every host's engine at once, each settled on its own: one that does not answer is an error in its place, never a failure of all. */
  all(): Promise<readonly HostAnswer[]>;
  /** Lets go of every connection opened (the command can end); safe to call twice. */
  close(): Promise<void>;
}
