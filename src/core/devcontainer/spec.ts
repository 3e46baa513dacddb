/**
 * The subset of devcontainer.json cspace understands, as resolved data: paths
 * absolute, variables substituted (except `${containerEnv:…}`, which only the
 * running container can answer: see substituteContainerEnv), forms
 * normalised. README.md documents the supported keys.
 */

export interface BuildSource {
  readonly kind: "build";
  /** Absolute host path of the Dockerfile. */
  readonly dockerfile: string;
  /** Absolute host path of the build context directory. */
  readonly context: string;
  readonly args: Readonly<Record<string, string>>;
  readonly target: string | null;
}

export type ImageSource = { readonly kind: "image"; readonly ref: string } | BuildSource;

export interface MountSpec {
  readonly type: "bind" | "volume";
  readonly source: string;
  readonly target: string;
  readonly readOnly: boolean;
}

/** A string runs through `/bin/sh -c`; an array is executed directly. */
export interface LifecycleCommand {
  readonly name: string;
  readonly command: string | readonly string[];
}

/** The string and array forms give one command; the object form gives several, run in parallel. */
export interface LifecycleStep {
  readonly parallel: readonly LifecycleCommand[];
}

export interface RunArgs {
  readonly memoryBytes: number | null;
  readonly nanoCpus: number | null;
  /** Added to the workers' reduced set (WORKER_CAPABILITIES); `capAdd` and `runArgs --cap-add`. */
  readonly capAdd: readonly string[];
  /**
   * `no-new-privileges` (default true): setuid binaries do not elevate.
   * False only when `securityOpt` or `runArgs --security-opt` says
   * `no-new-privileges=false` (a postCreateCommand that needs sudo).
   */
  readonly noNewPrivileges: boolean;
  readonly env: Readonly<Record<string, string>>;
  /** `--init` in runArgs or top-level `"init": true`. */
  readonly init: boolean;
}

export interface DevcontainerSpec {
  /** The file it came from, for messages. */
  readonly source: string;
  readonly image: ImageSource;
  readonly containerEnv: Readonly<Record<string, string>>;
  readonly remoteEnv: Readonly<Record<string, string>>;
  readonly containerUser: string | null;
  /** User for exec and lifecycle commands; when null use containerUser, then the image's default. */
  readonly remoteUser: string | null;
  /** In the container; default `/workspaces/<repo name>`. */
  readonly workspaceFolder: string;
  readonly mounts: readonly MountSpec[];
  readonly runArgs: RunArgs;
  /** `overrideCommand` (default true): replace the image's command with one that keeps the container alive. */
  readonly overrideCommand: boolean;
  readonly postCreate: LifecycleStep | null;
  readonly postStart: LifecycleStep | null;
  /** Keys cspace ignores, one line each; `name`, `$schema` and `customizations` are ignored silently. */
  readonly warnings: readonly string[];
}

export interface SubstitutionContext {
  readonly localEnv: Readonly<Record<string, string | undefined>>;
  /** The host folder the workspace comes from (the instance's checkout). */
  readonly localWorkspaceFolder: string;
  /** When absent, the spec's own workspaceFolder (or its default) is used. */
  readonly containerWorkspaceFolder?: string | undefined;
  readonly devcontainerId: string;
}

export interface ParseOptions {
  /** Absolute path of the devcontainer.json; relative paths in it resolve against its folder. */
  readonly file: string;
  readonly context: SubstitutionContext;
  /**
   * The project's folder name: the default workspaceFolder `/workspaces/<repoName>`
   * and `${localWorkspaceFolderBasename}`; default: basename of localWorkspaceFolder.
   */
  readonly repoName?: string | undefined;
}
