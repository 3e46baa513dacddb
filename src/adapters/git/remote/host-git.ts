import { mkdir } from "node:fs/promises";
import { writeFileAtomic } from "../../../shared/atomic-file.ts";
import path from "node:path";
import { exists } from "../../fs/exists.ts";
import { runGit, type GitResult } from "../run-git.ts";

/**
 * The two ways the branch mover runs git on the host.
 *
 * Local work (a fetch from a worker's checkout, a rebase, merge-tree) reads
 * no configuration of the user's: the user's gpg signing, rerere, filters or
 * aliases must neither run on nor change mechanical rewrites of an agent's
 * commits, and `predictConflicts` must answer exactly as `restack` replays.
 * Only a config file cspace writes is read (GIT_CONFIG_GLOBAL): it trusts
 * checkouts owned by the container's user (`safe.directory`, which git 2.39
 * honours only in system or global config, not with `-c`).
 *
 * Talking to the remote keeps the user's configuration (proxies, CA bundles,
 * `url.<base>.insteadOf`): that is how their network is reached. See
 * ./remote.ts for what a remote adds (the token, for GitHub).
 */

/** Who rewrites commits on the host: the committer of restacked commits (authors are kept). */
const COMMITTER = { GIT_COMMITTER_NAME: "cspace", GIT_COMMITTER_EMAIL: "cspace@localhost" };

/** The author of commits cspace makes itself (never of an agent's: a rebase keeps those). */
export const CSPACE_AUTHOR = { GIT_AUTHOR_NAME: "cspace", GIT_AUTHOR_EMAIL: "cspace@localhost" };

const HOST_CONFIG = [
  "# Written by cspace: the only configuration its mechanical git calls on the host read.",
  "# It holds no credentials: those are given to each network call through its environment.",
  "[safe]",
  // Workers' checkouts belong to the container's user; only fetched from (upload-pack is safe in untrusted repositories).
  "\tdirectory = *",
  "[init]",
  "\tdefaultBranch = main",
  "[advice]",
  "\tdetachedHead = false",
  "[gc]",
  "\tauto = 0",
  "",
].join("\n");

export const LOCAL_TIMEOUT_MS = 5 * 60_000;
export const NETWORK_TIMEOUT_MS = 30 * 60_000;

/** Writes cspace's host git config under `scratchDir` once; returns its path. */
export async function hostConfigFile(scratchDir: string): Promise<string> {
  const file = path.join(scratchDir, "host.gitconfig");
  if (await exists(file)) return file;
  await mkdir(scratchDir, { recursive: true });
  // Renamed into place: a concurrent first use never reads half a file.
  writeFileAtomic(file, HOST_CONFIG);
  return file;
}

export interface HostGitOptions {
  readonly okCodes?: readonly number[] | "any";
  readonly signal?: AbortSignal | undefined;
  readonly timeoutMs?: number;
  readonly input?: string;
  /** On top of the isolated environment (an author for a commit cspace makes itself). */
  readonly env?: Readonly<Record<string, string>>;
}

/** Git on the host without the user's configuration (see above). */
export function localGit(configFile: string, cwd: string, args: readonly string[], options: HostGitOptions = {}): Promise<GitResult> {
  return runGit(args, {
    cwd,
    env: { GIT_CONFIG_GLOBAL: configFile, GIT_CONFIG_NOSYSTEM: "1", ...COMMITTER, ...options.env },
    timeoutMs: options.timeoutMs ?? LOCAL_TIMEOUT_MS,
    ...(options.okCodes === undefined ? {} : { okCodes: options.okCodes }),
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.input === undefined ? {} : { input: options.input }),
  });
}
