import { InternalError, UserError } from "../errors.ts";
import type { DependencyGraph, DependencyNode } from "../graph/dependency-graph.ts";
import type { Issue } from "../issues/issue.ts";
import { baseBranchDecision } from "./base-branch-rule.ts";

export interface PlanInput {
  readonly graph: DependencyGraph;
  /** Titles and states; a closed issue counts as merged. */
  readonly issues: readonly Issue[];
  readonly selected: readonly number[];
  readonly featureBranch: string;
  /** At least 1. */
  readonly maxParallel: number;
  /** Issues whose branch `issue-<N>` exists and is not merged: they are running. */
  readonly launched: ReadonlySet<number>;
  /** Merged issues, in addition to every closed issue. */
  readonly merged: ReadonlySet<number>;
  /** `owner/repo#N` (as in the graph's `external`) → state; an absent one is unknown and counts as unmerged. */
  readonly externalStates: ReadonlyMap<string, "open" | "closed">;
}

export type DependencyState = "open" | "launched" | "merged" | "closed" | "unknown";

export interface PlannedDependency {
  /** `#12`, or `owner/repo#12` for another repository. */
  readonly ref: string;
  readonly number: number;
  readonly repo: string | null;
  /** The state once this round's launches are made. */
  readonly state: DependencyState;
}

export type PlannedAction = "launch" | "wait" | "running" | "merged";

export interface PlannedIssue {
  readonly number: number;
  readonly title: string;
  readonly dependencies: readonly PlannedDependency[];
  /** The branch it starts from when launched; null otherwise. */
  readonly base: string | null;
  readonly action: PlannedAction;
  /** Issue numbers, external references (`owner/repo#4`), or `"slot"`. */
  readonly waitingOn: readonly (number | string)[];
}

export interface Plan {
  readonly featureBranch: string;
  /** The selected issues, ascending. */
  readonly issues: readonly PlannedIssue[];
}

type Outcome = Pick<PlannedIssue, "action" | "base" | "waitingOn">;

const MERGED: Outcome = { action: "merged", base: null, waitingOn: [] };
const RUNNING: Outcome = { action: "running", base: null, waitingOn: [] };
const NO_SLOT: Outcome = { action: "wait", base: null, waitingOn: ["slot"] };

/**
 * The next round of design.md §4: which selected issues launch now, on which
 * base, and what the others wait for.
 *
 * Passes over the pending issues run in ascending number order until nothing
 * changes, so numbering changes only who gets a slot first. A launch is seen at
 * once by the issues after it in the same pass. A branch can be a base
 * once it exists: every running issue's branch, and the branch of an issue
 * launched on the feature branch in this round. A branch stacked in this round
 * is not yet a base for a third link: of a chain 10 ← 12 ← 14, 10 and 12 start
 * together and 14 waits on 12. Slots go to launches in the order they happen.
 */
export function planRound(input: PlanInput): Plan {
  if (!Number.isInteger(input.maxParallel) || input.maxParallel < 1) {
    throw new UserError(`maxParallel must be a whole number of at least 1; received ${input.maxParallel}`, {
      hint: "Set coordinator.maxParallel to 1 or more.",
    });
  }
  const issues = new Map<number, Issue>();
  for (const issue of input.issues) issues.set(issue.number, issue);
  const isMerged = (n: number): boolean => input.merged.has(n) || issues.get(n)?.state === "closed";
  const running = [...input.launched].filter((n) => !isMerged(n));
  const bases = new Set(running);
  let slots = input.maxParallel - running.length;

  const selected = [...new Set(input.selected)].sort((a, b) => a - b);
  const unmerged = new Map<number, readonly (number | string)[]>();
  const named = new Map<number, number>();
  for (const n of selected) {
    if (isMerged(n) || bases.has(n)) continue;
    const node = nodeOf(input.graph, n);
    const waits: (number | string)[] = node.dependencies.filter((d) => !isMerged(d));
    waits.push(...node.external.filter((ref) => input.externalStates.get(ref) !== "closed").sort());
    unmerged.set(n, waits);
    named.set(n, node.dependencies.length + node.external.length);
  }

  const decisions = new Map<number, Outcome>();
  let newBases: number[] = [];
  const hasBranch = (d: number): boolean => bases.has(d);
  const decide = (n: number, waits: readonly (number | string)[]): void => {
    const decision = baseBranchDecision({ named: named.get(n) ?? 0, unmerged: waits, hasBranch, featureBranch: input.featureBranch });
    if (decision.action === "wait") {
      decisions.set(n, { action: "wait", base: null, waitingOn: decision.waitingOn });
    } else if (slots <= 0) {
      decisions.set(n, NO_SLOT);
    } else {
      slots--;
      decisions.set(n, { action: "launch", base: decision.base, waitingOn: [] });
      // A branch started from the feature branch is a base at once; a stacked one only next round.
      if (!decision.stacked) {
        bases.add(n);
        newBases.push(n);
      }
    }
  };

  let pass = [...unmerged.keys()];
  while (pass.length > 0) {
    newBases = [];
    for (const n of pass) decide(n, unmerged.get(n) ?? []);
    // Only an issue whose one unmerged dependency just became a base can
    // change: one the pass went by before that launch (a lower number).
    const next = new Set<number>();
    for (const n of newBases) {
      for (const dependent of nodeOf(input.graph, n).dependents) {
        const waits = unmerged.get(dependent);
        const decided = decisions.get(dependent);
        if (waits?.length === 1 && waits[0] === n && decided?.action === "wait" && decided !== NO_SLOT) next.add(dependent);
      }
    }
    pass = [...next].sort((a, b) => a - b);
  }

  const stateOf = (d: number): DependencyState => {
    if (input.merged.has(d)) return "merged";
    if (issues.get(d)?.state === "closed") return "closed";
    return bases.has(d) || decisions.get(d)?.action === "launch" ? "launched" : "open";
  };
  const planned = selected.map((n): PlannedIssue => {
    const node = nodeOf(input.graph, n);
    const dependencies: PlannedDependency[] = [];
    for (const d of node.dependencies) dependencies.push({ ref: `#${d}`, number: d, repo: null, state: stateOf(d) });
    for (const ref of node.external) dependencies.push(externalDependency(ref, input.externalStates.get(ref)));
    const { action, base, waitingOn } = isMerged(n) ? MERGED : (decisions.get(n) ?? RUNNING);
    return { number: n, title: issues.get(n)?.title ?? "", dependencies, base, action, waitingOn };
  });
  return { featureBranch: input.featureBranch, issues: planned };
}

function nodeOf(graph: DependencyGraph, n: number): DependencyNode {
  const node = graph.nodes.get(n);
  if (node === undefined) throw new InternalError(`issue #${n} is not in the dependency graph`);
  return node;
}

function externalDependency(ref: string, state: "open" | "closed" | undefined): PlannedDependency {
  const hash = ref.lastIndexOf("#");
  return { ref, number: Number(ref.slice(hash + 1)), repo: ref.slice(0, hash), state: state ?? "unknown" };
}
