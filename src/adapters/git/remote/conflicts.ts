import { ExternalError } from "../../../core/errors.ts";
import { shownPath } from "../../../core/messaging/quoted-text.ts";
import { CSPACE_AUTHOR } from "./host-git.ts";
import type { HostStore } from "./store.ts";

/**
 * The paths a merge of `head` into `base` conflicts on (`git merge-tree
 * --write-tree`, git 2.38+, in the store: objects only, no ref, no working
 * tree); empty when clean. Histories with no common commit conflict on "/".
 */
export async function mergeConflicts(store: HostStore, base: string, head: string, signal?: AbortSignal): Promise<readonly string[]> {
  const result = await store.git(["merge-tree", "--write-tree", "--name-only", "-z", base, head], { okCodes: [0, 1, 128], signal });
  if (result.exitCode === 128) {
    if (/unrelated histories/i.test(result.stderr)) return ["/"];
    throw new ExternalError(`git merge-tree ${base} ${head} failed in ${store.dir}: ${result.stderr.trim()}`);
  }
  if (result.exitCode === 0) return [];
  // <tree>\0<path>\0...\0\0<messages>: the conflicted paths run to the first empty field.
  const paths = new Set<string>();
  for (const field of result.stdout.split("\0").slice(1)) {
    if (field === "") break;
    paths.add(field);
  }
  return [...paths].sort();
}

/**
 * The conflicts a restack of `head` (stacked on `oldParentHead`) onto `onto`
 * would meet, counting only the branch's own changes: a merge whose base is
 * the old parent head. git 2.39 has no `merge-tree --merge-base`, so the
 * base is forced through a commit with `onto`'s tree whose only parent is
 * the old parent head: the best common ancestor with `head` is then that
 * commit's parent. The commit is a dangling object of the store (which never
 * prunes), nothing refers to it.
 */
export async function restackConflicts(store: HostStore, head: string, oldParentHead: string, onto: string, signal?: AbortSignal): Promise<readonly string[]> {
  const tree = (await store.git(["rev-parse", "--verify", `${onto}^{tree}`], { signal })).stdout.trim();
  const stand = await store.git(["commit-tree", "-p", oldParentHead, tree], { input: "cspace: restack preview\n", env: CSPACE_AUTHOR, signal });
  return mergeConflicts(store, stand.stdout.trim(), head, signal);
}

/**
 * The conflicting regions of a merge of `head` into `base`: `merge-tree
 * --write-tree` writes the merged tree with git's conflict markers in each
 * conflicted file; for each, a `--- <path>` line and the lines from each
 * `<<<<<<<` to its `>>>>>>>`, the whole cut to `maxChars`. Empty when clean.
 * `only`: show just those of the conflicted paths.
 */
export async function mergeConflictHunks(store: HostStore, base: string, head: string, maxChars: number, signal?: AbortSignal, only?: readonly string[]): Promise<string> {
  const result = await store.git(["merge-tree", "--write-tree", "--name-only", "-z", base, head], { okCodes: [0, 1, 128], signal });
  if (result.exitCode !== 1) return "";
  const [tree, ...fields] = result.stdout.split("\0");
  const paths: string[] = [];
  for (const field of fields) {
    if (field === "") break;
    if (!paths.includes(field) && (only === undefined || only.includes(field))) paths.push(field);
  }
  const out: string[] = [];
  let size = 0;
  for (const file of paths) {
    if (size >= maxChars) break;
    const object = `${tree ?? ""}:${file}`;
    // A branch can commit a file of any size: one too large to read for a few hunks is named, not read.
    const bytes = Number((await store.git(["cat-file", "-s", object], { okCodes: "any", signal })).stdout.trim());
    const blob = Number.isFinite(bytes) && bytes > 0 && bytes <= HUNK_FILE_BYTES ? await store.git(["cat-file", "blob", object], { okCodes: "any", signal }) : null;
    const regions =
      blob !== null && blob.exitCode === 0
        ? conflictRegions(blob.stdout)
        : [bytes > HUNK_FILE_BYTES ? `(too large to show: ${String(bytes)} bytes)` : "(no text to show: deleted, renamed or binary on one side)"];
    // The path is the branch's to name (a newline or an escape in it): shown as one token.
    const lines = [`--- ${shownPath(file)}`, ...regions];
    for (const line of lines) {
      out.push(line);
      size += line.length + 1;
      if (size >= maxChars) break;
    }
  }
  const text = out.join("\n");
  return text.length > maxChars ? text.slice(0, maxChars) : text;
}

/** The largest conflicted file whose regions are read for the hunks. */
const HUNK_FILE_BYTES = 8 * 1024 * 1024;

/** The lines of each conflict region, markers included. */
function conflictRegions(text: string): string[] {
  const regions: string[] = [];
  let inside = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("<<<<<<< ")) inside = true;
    if (inside) regions.push(line);
    if (line.startsWith(">>>>>>> ")) inside = false;
  }
  return regions;
}
