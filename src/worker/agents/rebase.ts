import type { Git } from "./git.ts";

/** A rebase that keeps going past this many stops is a bug, not a history. */
const MAX_STOPS = 1000;

/**
 * Fetches `branch` from `remote` and rebases the current branch onto it,
 * keeping the agent's own side of every conflict. During a rebase "ours" is
 * the branch being rebased onto and "theirs" is the commit being replayed,
 * which is the agent's: hence `-X theirs`. What that strategy option cannot
 * settle (a file deleted on one side and changed on the other) is settled
 * the same way by hand: the replayed commit's version, or its deletion.
 * A commit left empty is skipped. Either the rebase completes or it is
 * aborted: no rebase is ever left in progress.
 */
export async function rebaseKeepingOurs(git: Git, remote: string, branch: string): Promise<{ readonly head: string }> {
  await git.ok(["fetch", "--quiet", remote, branch]);
  const identity = await git.identityArgs();
  let result = await git.run([...identity, "rebase", "-X", "theirs", "FETCH_HEAD"]);
  try {
    for (let stops = 0; result.code !== 0; stops += 1) {
      if (!(await git.rebaseInProgress())) throw new Error(`git rebase failed: ${(result.stderr || result.stdout).trim()}`);
      if (stops >= MAX_STOPS) throw new Error(`git rebase stopped more than ${MAX_STOPS} times`);
      // A stop that is not a conflict (an untracked file in the way) would lose the commit if skipped.
      if (/would be overwritten/.test(result.stderr)) throw new Error(`git rebase stopped: ${result.stderr.trim()}`);
      await takeReplayedSide(git);
      // The agent's change is already upstream: the commit is empty once settled.
      const empty = await nothingStaged(git);
      result = await git.run([...identity, "rebase", empty ? "--skip" : "--continue"]);
    }
  } catch (error) {
    if (await git.rebaseInProgress()) await git.run(["rebase", "--abort"]);
    throw error;
  }
  return { head: (await git.ok(["rev-parse", "HEAD"])).trim() };
}

async function takeReplayedSide(git: Git): Promise<void> {
  const unmerged = (await git.ok(["diff", "--name-only", "--diff-filter=U", "-z"])).split("\0").filter((name) => name !== "");
  for (const file of unmerged) {
    const checkout = await git.run(["checkout", "--theirs", "--", file]);
    if (checkout.code === 0) await git.ok(["add", "--", file]);
    else await git.ok(["rm", "--quiet", "--", file]);
  }
}

async function nothingStaged(git: Git): Promise<boolean> {
  return (await git.run(["diff", "--cached", "--quiet"])).code === 0;
}
