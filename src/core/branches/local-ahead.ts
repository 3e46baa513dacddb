/**
 * The user's own branch against the forge's. A run starts from the forge's
 * branch (that is where its merges land), so commits only the user's
 * checkout has are not in it: worth a word before the run, never a refusal.
 */
export type LocalVersusForge =
  | { readonly kind: "same" }
  /** The user's repository has no branch of that name. */
  | { readonly kind: "no-local" }
  | { readonly kind: "counted"; readonly ahead: number; readonly behind: number }
  /** Neither repository has both commits (local ones never pushed, forge ones never fetched): they differ, by how much is unknown. */
  | { readonly kind: "unknown"; readonly localSha: string }
  /** Only the user's repository could be read, and it lacks the forge's commit: most likely it has not fetched; nothing to say. */
  | { readonly kind: "unreadable" };

/**
 * The notice for a local branch with commits the forge's lacks, or null:
 * "main is 2 commits ahead of the forge's main: push them (git push cspace
 * main) or they are not in the run". `remote` is the user's name for the
 * forge's repository, when it has one.
 */
export function aheadNotice(branch: string, comparison: LocalVersusForge, remote: string | null): string | null {
  const push = remote === null ? `push ${branch} to the forge's repository` : `git push ${remote} ${branch}`;
  switch (comparison.kind) {
    case "same":
    case "no-local":
    case "unreadable":
      return null;
    case "counted": {
      if (comparison.ahead === 0) return null;
      const commits = comparison.ahead === 1 ? "1 commit" : `${String(comparison.ahead)} commits`;
      const them = comparison.ahead === 1 ? "it" : "them";
      const diverged = comparison.behind === 0 ? "" : ` (and ${String(comparison.behind)} behind)`;
      return `${branch} is ${commits} ahead of the forge's ${branch}${diverged}: push ${them} (${push}) or ${them === "it" ? "it is" : "they are"} not in the run`;
    }
    case "unknown":
      return `${branch} here (${comparison.localSha.slice(0, 12)}) and the forge's ${branch} have each commits the other lacks: the run starts from the forge's; pull it, then push yours (${push}) if they should be in the run`;
  }
}
