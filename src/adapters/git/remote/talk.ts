import { runGit, type GitResult } from "../run-git.ts";
import { remoteFailure } from "./failures.ts";
import { NETWORK_TIMEOUT_MS } from "./host-git.ts";
import type { GitRemote, RemoteAccess } from "./remote.ts";

/**
 * Git that talks to the remote: the user's configuration (their network),
 * plus what the remote adds for this one process (the token, for GitHub).
 * The result is returned whatever the exit code; `fail` turns one into a
 * typed error with every secret scrubbed from git's words.
 */
export interface RemoteCall {
  readonly result: GitResult;
  fail(what: string): Error;
}

export async function talkToRemote(
  remote: GitRemote,
  cwd: string,
  args: readonly string[],
  options: { readonly signal?: AbortSignal | undefined } = {},
): Promise<RemoteCall> {
  const access: RemoteAccess = await remote.access();
  const result = await runGit(args, {
    cwd,
    env: access.env,
    okCodes: "any",
    timeoutMs: NETWORK_TIMEOUT_MS,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
  return { result, fail: (what) => remoteFailure(what, remote.description, result.stderr, access.secrets) };
}

/** The remote's heads among `branches` (`git ls-remote`): branch → sha, null when missing. */
export async function remoteHeads(remote: GitRemote, cwd: string, branches: readonly string[], signal?: AbortSignal): Promise<Map<string, string | null>> {
  const heads = new Map<string, string | null>(branches.map((branch) => [branch, null]));
  if (branches.length === 0) return heads;
  const call = await talkToRemote(remote, cwd, ["ls-remote", "--heads", "--", remote.url, ...branches.map((b) => `refs/heads/${b}`)], { signal });
  if (call.result.exitCode !== 0) throw call.fail("list branches");
  for (const line of call.result.stdout.split("\n")) {
    const [sha, ref] = line.split("\t");
    // ls-remote matches patterns on their tail: keep exact names only.
    const branch = ref?.startsWith("refs/heads/") === true ? ref.slice("refs/heads/".length) : undefined;
    if (sha !== undefined && branch !== undefined && heads.has(branch)) heads.set(branch, sha);
  }
  return heads;
}
