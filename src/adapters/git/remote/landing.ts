import type { LandingCar, LandingPreparation } from "../../../core/branches/port.ts";
import { ExternalError } from "../../../core/errors.ts";
import { CSPACE_AUTHOR } from "./host-git.ts";
import type { HostStore } from "./store.ts";

/** Lines of `git log --stat` a retry prompt gets of what changed underneath. */
const UNDERNEATH_LINES = 80;

/**
 * The tree `head` would land as on `baseSha` with the train's cars `ahead`
 * merged first, in order (`git merge-tree --write-tree` in the store: objects
 * only, no ref, no working tree), a commit of it for a worker to check out,
 * and what changed on the base since `since`. Each car is a commit titled
 * with its label on the one before, so what changed underneath shows the
 * cars as merges would. The commits are dangling objects of the store, which
 * never prunes; nothing refers to them.
 */
export async function prepareLandingIn(store: HostStore, baseSha: string, head: string, since: string | null, signal?: AbortSignal, ahead: readonly LandingCar[] = []): Promise<LandingPreparation> {
  let onto = baseSha;
  for (const car of ahead) {
    const merged = await mergeTree(store, onto, car.head, signal);
    if (!merged.ok) return { ok: false, baseSha, conflicts: merged.conflicts };
    onto = await commitTree(store, merged.tree, [onto, car.head], `${car.label}\n\ncspace: ahead in the merge train\n`, signal);
  }
  const merged = await mergeTree(store, onto, head, signal);
  if (!merged.ok) return { ok: false, baseSha, conflicts: merged.conflicts };
  const commit = await commitTree(store, merged.tree, [onto, head], "cspace: the tree that would land\n", signal);
  return { ok: true, baseSha, tree: merged.tree, commit, underneath: await underneath(store, onto, head, since, signal) };
}

type Merged = { readonly ok: true; readonly tree: string } | { readonly ok: false; readonly conflicts: readonly string[] };

async function mergeTree(store: HostStore, onto: string, head: string, signal?: AbortSignal): Promise<Merged> {
  const merged = await store.git(["merge-tree", "--write-tree", "--name-only", "-z", onto, head], { okCodes: [0, 1, 128], signal });
  if (merged.exitCode === 128) {
    if (/unrelated histories/i.test(merged.stderr)) return { ok: false, conflicts: ["/"] };
    throw new ExternalError(`git merge-tree ${onto} ${head} failed in ${store.dir}: ${merged.stderr.trim()}`);
  }
  const fields = merged.stdout.split("\0");
  if (merged.exitCode === 1) {
    const paths = new Set<string>();
    for (const field of fields.slice(1)) {
      if (field === "") break;
      paths.add(field);
    }
    return { ok: false, conflicts: [...paths].sort() };
  }
  return { ok: true, tree: (fields[0] ?? "").trim() };
}

async function commitTree(store: HostStore, tree: string, parents: readonly string[], message: string, signal?: AbortSignal): Promise<string> {
  const commit = await store.git(["commit-tree", ...parents.flatMap((parent) => ["-p", parent]), tree], { input: message, env: CSPACE_AUTHOR, signal });
  return commit.stdout.trim();
}

/** The commits on the base since the branch's own base (or their merge base): titles and `--stat`, bounded. */
async function underneath(store: HostStore, baseSha: string, head: string, since: string | null, signal?: AbortSignal): Promise<string> {
  let from = since === null ? null : await store.resolve(since);
  if (from === null || !(await store.isAncestor(from, baseSha))) {
    const base = await store.git(["merge-base", baseSha, head], { okCodes: [0, 1], signal });
    from = base.exitCode === 0 ? base.stdout.trim() : null;
  }
  if (from === null) return "(the branch shares no history with the base)";
  const log = await store.git(["log", "--first-parent", "--stat", "--format=%h %s", `${from}..${baseSha}`], { signal });
  const lines = log.stdout.trimEnd().split("\n");
  if (log.stdout.trim() === "") return "(nothing: the branch already sits on the tip)";
  return lines.length > UNDERNEATH_LINES ? [...lines.slice(0, UNDERNEATH_LINES), `… (${String(lines.length - UNDERNEATH_LINES)} more lines)`].join("\n") : lines.join("\n");
}

/** The tree of a commit in the store, or null. */
export async function treeIn(store: HostStore, commit: string, signal?: AbortSignal): Promise<string | null> {
  const result = await store.git(["rev-parse", "--verify", "--quiet", "--end-of-options", `${commit}^{tree}`], { okCodes: "any", signal });
  return result.exitCode === 0 ? result.stdout.trim() : null;
}
