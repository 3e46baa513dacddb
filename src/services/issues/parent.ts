import { UserError } from "../../core/errors.ts";
import { ForgeNotFoundError } from "../../core/forge/errors.ts";
import type { Forge } from "../../core/forge/port.ts";

export interface ParentSelection {
  /** The issues to take: the sub-issues of the parent, then any named beside it, each once. */
  readonly numbers: readonly number[];
  /** Sub-issues left out (another repository's), one sentence each. */
  readonly notices: readonly string[];
}

/**
 * `--parent 42`: the sub-issues of #42 (GitHub's sub-issues, or local issues
 * whose front matter says `parent: 42`), whatever their state (a closed one
 * counts as merged, as a named issue does), plus any issue numbers given
 * beside it. The parent itself is not run. An unknown parent, or one without
 * sub-issues, is a user error saying so.
 */
export async function parentSelection(forge: Forge, parent: number, named: readonly number[]): Promise<ParentSelection> {
  const listing = await forge.subIssues(parent).catch((error: unknown) => {
    if (error instanceof ForgeNotFoundError) {
      throw new UserError(`--parent ${String(parent)}: there is no issue #${String(parent)} (${error.message})`, {
        hint: "--parent names the issue whose sub-issues the run takes; cspace plan --parent <N> shows what it would take",
      });
    }
    throw error;
  });
  if (listing.numbers.length === 0) {
    const elsewhere = listing.notices.length > 0 ? ` in this repository (${listing.notices.join("; ")})` : "";
    throw new UserError(`--parent ${String(parent)}: issue #${String(parent)} has no sub-issues${elsewhere}`, {
      hint: `On GitHub, add sub-issues to #${String(parent)}; with the local forge, write \`parent: ${String(parent)}\` in each sub-issue's front matter. Or name the issues: cspace coordinate 10 11 12`,
    });
  }
  return { numbers: [...new Set([...listing.numbers, ...named])], notices: listing.notices };
}
