import { createHash } from "node:crypto";

/**
 * Commits of whole files in memory, with git's answers where the fakes need
 * them: ancestry, a merge base, a three-way merge file by file (two sides
 * changing one file differently conflict, as with git), and a replay of a
 * range of commits onto another (a rebase: commits that become empty are
 * dropped). Used by test/fakes/branch-mover.ts.
 */
export interface FakeCommit {
  readonly parents: readonly string[];
  readonly files: ReadonlyMap<string, string>;
  readonly message: string;
}

export type FakeMerge = { readonly ok: true; readonly files: ReadonlyMap<string, string> } | { readonly ok: false; readonly conflicts: readonly string[] };

export class CommitGraph {
  readonly #commits = new Map<string, FakeCommit>();
  #made = 0;

  has(sha: string): boolean {
    return this.#commits.has(sha);
  }

  get(sha: string): FakeCommit {
    const commit = this.#commits.get(sha);
    if (commit === undefined) throw new Error(`fake commit graph: no commit ${sha}`);
    return commit;
  }

  /** A commit on `parent` (null: a root) with `files` changed (null deletes). */
  commit(parent: string | null, files: Readonly<Record<string, string | null>>, message: string): string {
    const next = new Map(parent === null ? [] : this.get(parent).files);
    for (const [file, content] of Object.entries(files)) {
      if (content === null) next.delete(file);
      else next.set(file, content);
    }
    return this.add({ parents: parent === null ? [] : [parent], files: next, message });
  }

  add(commit: FakeCommit): string {
    const sha = createHash("sha1")
      .update(JSON.stringify([++this.#made, commit.parents, [...commit.files].sort(), commit.message]))
      .digest("hex");
    this.#commits.set(sha, commit);
    return sha;
  }

  ancestors(sha: string): Set<string> {
    const seen = new Set<string>();
    const stack = [sha];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...this.get(next).parents);
    }
    return seen;
  }

  isAncestor(ancestor: string, of: string): boolean {
    return this.ancestors(of).has(ancestor);
  }

  /** The best common ancestor (one no other common ancestor descends from), or null for unrelated histories. */
  mergeBase(a: string, b: string): string | null {
    const ofB = this.ancestors(b);
    const common = [...this.ancestors(a)].filter((sha) => ofB.has(sha));
    return common.find((candidate) => !common.some((other) => other !== candidate && this.isAncestor(candidate, other))) ?? null;
  }

  /** Three-way merge of whole files: `base` null is an empty tree (unrelated histories). */
  merge(base: string | null, ours: string, theirs: string): FakeMerge {
    const baseFiles = base === null ? new Map<string, string>() : this.get(base).files;
    const oursFiles = this.get(ours).files;
    const theirsFiles = this.get(theirs).files;
    const files = new Map(oursFiles);
    const conflicts: string[] = [];
    for (const file of new Set([...baseFiles.keys(), ...oursFiles.keys(), ...theirsFiles.keys()])) {
      const [was, mine, their] = [baseFiles.get(file), oursFiles.get(file), theirsFiles.get(file)];
      if (their === was || their === mine) continue;
      if (mine !== was) {
        conflicts.push(file);
        continue;
      }
      if (their === undefined) files.delete(file);
      else files.set(file, their);
    }
    return conflicts.length > 0 ? { ok: false, conflicts: conflicts.sort() } : { ok: true, files };
  }

  /** `git rebase --onto <onto> <upstream> <head>` over linear histories: the new head, or the paths it stopped on. */
  replay(head: string, upstream: string, onto: string): { ok: true; sha: string } | { ok: false; conflicts: readonly string[] } {
    const skip = this.ancestors(upstream);
    const picks: string[] = [];
    for (let sha: string | undefined = head; sha !== undefined && !skip.has(sha); sha = this.get(sha).parents[0]) picks.unshift(sha);
    let current = onto;
    for (const pick of picks) {
      const commit = this.get(pick);
      const merged = this.merge(commit.parents[0] ?? null, current, pick);
      if (!merged.ok) return merged;
      if (sameFiles(merged.files, this.get(current).files)) continue;
      current = this.add({ parents: [current], files: merged.files, message: commit.message });
    }
    return { ok: true, sha: current };
  }
}

function sameFiles(a: ReadonlyMap<string, string>, b: ReadonlyMap<string, string>): boolean {
  return a.size === b.size && [...a].every(([file, content]) => b.get(file) === content);
}
