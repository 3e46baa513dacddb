import { ExternalError } from "../../../core/errors.ts";
import { HeadMovedError } from "../../../core/forge/errors.ts";
import type { GitRemote } from "./remote.ts";
import { remoteHeads, talkToRemote } from "./talk.ts";

/**
 * Sets the remote's `branch` to `sha` with `--force-with-lease=<ref>:<expected>`
 * (empty: the branch must not exist), from the repository at `cwd`, which
 * must hold `sha`. A remote already at `sha` is left alone (git reports it
 * up to date whatever the lease). A stale lease is a HeadMovedError naming
 * what the remote has; the push changes nothing then.
 */
export async function pushWithLease(
  remote: GitRemote,
  cwd: string,
  push: { readonly sha: string; readonly branch: string; readonly expected: string | null },
  signal?: AbortSignal,
): Promise<void> {
  const ref = `refs/heads/${push.branch}`;
  const lease = `--force-with-lease=${ref}:${push.expected ?? ""}`;
  const call = await talkToRemote(remote, cwd, ["push", "--porcelain", "--no-verify", lease, "--", remote.url, `${push.sha}:${ref}`], { signal });
  const status = refStatus(call.result.stdout, ref);
  if (status === null) {
    if (call.result.exitCode === 0) return;
    throw call.fail(`push ${push.branch}`);
  }
  if (status.flag !== "!") return;
  if (/stale info/.test(status.summary)) {
    const actual = (await remoteHeads(remote, cwd, [push.branch], signal)).get(push.branch) ?? null;
    throw new HeadMovedError(
      `the remote's ${push.branch} is at ${actual ?? "nothing (no such branch)"}, not at ${push.expected ?? "nothing (a new branch)"} as expected: nothing was pushed`,
      { expectedSha: push.expected, actualSha: actual, hint: "Read the branch again (someone else pushed), then decide what to push." },
    );
  }
  throw new ExternalError(`${remote.description} refused the push of ${push.branch}: ${status.summary}`);
}

/**
 * The line of `git push --porcelain` for `ref`: `<flag>\t<from>:<to>\t<summary>`,
 * where the flag is " " (fast-forward), "+" (forced), "*" (new), "=" (up to
 * date), "-" (deleted) or "!" (rejected).
 */
function refStatus(stdout: string, ref: string): { flag: string; summary: string } | null {
  for (const line of stdout.split("\n")) {
    const [flag, refs, summary] = line.split("\t");
    if (flag !== undefined && refs?.endsWith(`:${ref}`) === true) return { flag, summary: summary ?? "" };
  }
  return null;
}
