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
  /**
   * Issues a run under way holds back because they will conflict with a branch merging before them (the soft edge
   * of predictions.ts): the reason, and the issue they start after. Absent: none.
   */
  readonly held?: ReadonlyMap<number, { readonly reason: string; readonly on: number }>;
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
  /** Why a run under way holds it (a predicted conflict with the issue it waits on); absent when it is not held. */
  readonly held?: string;
}

export interface Plan {
  readonly featureBranch: string;
  /** The selected issues, ascending. */
  readonly issues: readonly PlannedIssue[];
}

type Outcome = Pick<PlannedIssue, "action" | "base" | "waitingOn" | "held">;

const MERGED: Outcome = { action: "merged", base: null, waitingOn: [] };
const RUNNING: Outcome = { action: "running", base: null, waitingOn: [] };
const NO_SLOT: Outcome = { action: "wait", base: null, waitingOn: ["slot"] };

/**
 * The next round of design.md §4: which selected issues launch now, on which
 * base, and what the others wait for.
 *
 * A branch is a base only once it holds verified work (issue 14: stack only
 * on real work), which no issue launched in this round can have yet: the
 * plan forecasts every running issue's branch as a base, and no other. So a
 * stacked issue launches in the round after its parent's launch, on
 * `issue-<parent>`: of a chain 10 ← 12 ← 14, 10 starts now, 12 waits on 10
 * and 14 on 12. One pass in ascending number order decides every issue, so
 * numbering changes only who gets a slot first.
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
  const hasBranch = (d: number): boolean => bases.has(d);
  for (const [n, waits] of unmerged) {
    const decision = baseBranchDecision({ named: named.get(n) ?? 0, unmerged: waits, hasBranch, featureBranch: input.featureBranch });
    const hold = input.held?.get(n);
    if (decision.action === "wait") {
      decisions.set(n, { action: "wait", base: null, waitingOn: decision.waitingOn });
    } else if (hold !== undefined) {
      decisions.set(n, { action: "wait", base: null, waitingOn: [hold.on], held: hold.reason });
    } else if (slots <= 0) {
      decisions.set(n, NO_SLOT);
    } else {
      slots--;
      decisions.set(n, { action: "launch", base: decision.base, waitingOn: [] });
    }
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
    const { action, base, waitingOn, held } = isMerged(n) ? MERGED : (decisions.get(n) ?? RUNNING);
    return { number: n, title: issues.get(n)?.title ?? "", dependencies, base, action, waitingOn, ...(held === undefined ? {} : { held }) };
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
