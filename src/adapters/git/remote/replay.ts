import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { ExternalError } from "../../../core/errors.ts";
import { localGit } from "./host-git.ts";
import type { HostStore } from "./store.ts";

export type ReplayResult = { readonly ok: true; readonly sha: string } | { readonly ok: false; readonly conflicts: readonly string[] };

const PREFIX = "restack-";

/**
 * `git rebase --onto <onto> <oldParentHead>` of `head`, in a throwaway
 * checkout under `scratchDir` that borrows the store's objects (alternates)
 * and is removed afterwards, whatever happened. Never in an agent's
 * checkout, and never in one that is used twice: a conflict is aborted and
 * the directory deleted, so no rebase is ever left in progress where anyone
 * works, and a coordinator killed mid-rebase leaves only a directory that
 * the next replay sweeps (its process is gone). A clean replay's commits
 * are fetched into the store (`refs/cspace/restacked/<branch>`) before the
 * checkout goes, so the push can be made from the store.
 */
export async function replayOnto(
  store: HostStore,
  scratchDir: string,
  replay: { readonly branch: string; readonly head: string; readonly oldParentHead: string; readonly onto: string },
  signal?: AbortSignal,
): Promise<ReplayResult> {
  await mkdir(scratchDir, { recursive: true });
  await sweep(scratchDir);
  const dir = await mkdtemp(path.join(scratchDir, `${PREFIX}${String(process.pid)}-`));
  const git = (args: readonly string[], okCodes: readonly number[] | "any" = [0]) => localGit(store.configFile, dir, args, { signal, okCodes });
  try {
    await git(["init", "--quiet", dir]);
    await writeFile(path.join(dir, ".git", "objects", "info", "alternates"), `${path.join(store.dir, "objects")}\n`);
    await git(["checkout", "--quiet", "--detach", replay.head]);
    const rebase = await git(["rebase", "--quiet", "--onto", replay.onto, replay.oldParentHead], "any");
    if (rebase.exitCode !== 0) {
      const unmerged = await git(["diff", "--name-only", "--diff-filter=U", "-z"]);
      await git(["rebase", "--abort"], "any");
      const conflicts = [...new Set(unmerged.stdout.split("\0").filter((p) => p !== ""))].sort();
      if (conflicts.length > 0) return { ok: false, conflicts };
      throw new ExternalError(`git rebase --onto ${replay.onto} ${replay.oldParentHead} failed for ${replay.branch}: ${rebase.stderr.trim() || rebase.stdout.trim()}`);
    }
    const sha = (await git(["rev-parse", "HEAD"])).stdout.trim();
    await store.locked(() => store.git(["fetch", "--quiet", "--no-tags", "--no-write-fetch-head", dir, `+HEAD:refs/cspace/restacked/${replay.branch}`], { signal }), signal);
    return { ok: true, sha };
  } finally {
    await rm(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

/** Removes replay checkouts whose process is gone (a coordinator killed mid-rebase). */
async function sweep(scratchDir: string): Promise<void> {
  for (const entry of await readdir(scratchDir)) {
    const pid = Number(/^restack-(\d+)-/.exec(entry)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !alive(pid)) {
      await rm(path.join(scratchDir, entry), { recursive: true, force: true });
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
