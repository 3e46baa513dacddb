import type { CoordinatorState, IssueRecord } from "./state.ts";
import { verifyPassed } from "./queries.ts";

/**
 * Stack only on real work: a branch is a base for a dependent only once it
 * holds verified work on the forge (its pushed head passed verify, or was
 * pushed when the project verifies nothing). A dependent stacked on a branch
 * that was only created would start on its parent's empty base, its prompt
 * would promise work that is not there, and its verify would judge it without
 * the code it builds on (the race issue 14 measured in the README walkthrough).
 */
export function holdsVerifiedWork(state: CoordinatorState, parent: IssueRecord): boolean {
  return parent.pushedSha !== null && parent.pushedSha !== parent.baseSha && verifyPassed(state, parent);
}
