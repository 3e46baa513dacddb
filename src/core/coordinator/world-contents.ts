/**
 * What the simulated world's commits hold, so that a verify's answer depends
 * on the tree and not on a script: each commit holds some issues' work, and
 * each piece of work knows which other issues' work it was written against.
 * Two issues declared incompatible fail verify together (a rename on one
 * side, a new caller of the old name on the other) unless one of them was
 * written knowing the other; alone, each passes.
 */

/** An issue's work in a commit: which issues' work it was written against. */
export interface Work {
  readonly sees: readonly number[];
}

/** Issue → its work, in one commit. */
export type Contents = Readonly<Record<number, Work>>;

export interface WorldSemantics {
  /** Pairs of issues whose work fails verify together unless one was written knowing the other. */
  readonly incompatible?: readonly (readonly [number, number])[];
  /** The feature branch fails verify from the start, whatever is added. */
  readonly redBase?: boolean;
}

export function contentsOf(world: { readonly contents: Readonly<Record<string, Contents>> }, sha: string): Contents {
  return world.contents[sha] ?? {};
}

/** Issue `n` commits on `head`; with `tip`, it first brought the feature branch's tip in (a retry or rebase told what changed). */
export function committed(n: number, head: Contents, tip: Contents | null): Contents {
  const base = tip === null ? head : { ...head, ...tip };
  const sees = Object.keys(base).map(Number).filter((issue) => issue !== n).sort((a, b) => a - b);
  return { ...base, [n]: { sees } };
}

/** `head` (issue `n`'s branch) merged into `tip`: the tip's version of everything but `n`'s own work. */
export function merged(n: number, tip: Contents, head: Contents): Contents {
  const own = head[n];
  return own === undefined ? { ...head, ...tip } : { ...head, ...tip, [n]: own };
}

/** Issue `n`'s branch replayed onto `onto`: the same as merging it there. */
export function restacked(n: number, head: Contents, onto: Contents): Contents {
  return merged(n, onto, head);
}

/** A name for the tree: equal contents, equal name. */
export function treeId(contents: Contents): string {
  const parts = Object.keys(contents)
    .map(Number)
    .sort((a, b) => a - b)
    .map((n) => `${String(n)}[${(contents[n]?.sees ?? []).join(",")}]`);
  return `t:${parts.join(";")}`;
}

export function treePasses(semantics: WorldSemantics, contents: Contents): boolean {
  if (semantics.redBase === true) return false;
  for (const [a, b] of semantics.incompatible ?? []) {
    const wa = contents[a];
    const wb = contents[b];
    if (wa !== undefined && wb !== undefined && !wa.sees.includes(b) && !wb.sees.includes(a)) return false;
  }
  return true;
}
