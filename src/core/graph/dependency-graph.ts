import { UserError } from "../errors.ts";
import type { Issue } from "../issues/issue.ts";
import { parseDependencyMentions } from "../issues/references.ts";

/** One issue in the graph's scope and its edges. */
export interface DependencyNode {
  readonly number: number;
  /** Issues of this repository it depends on, ascending. */
  readonly dependencies: readonly number[];
  /** Issues of other repositories it depends on, as `owner/repo#N`, in the order written. */
  readonly external: readonly string[];
  /** Issues in scope that depend on it, ascending. */
  readonly dependents: readonly number[];
}

export interface DependencyGraph {
  /** The selected issues and, transitively, the issues they depend on. */
  readonly nodes: ReadonlyMap<number, DependencyNode>;
  /** Topological rounds: each issue after all its dependencies; ascending inside a round. */
  readonly rounds: readonly (readonly number[])[];
  /** The rounds, flattened. */
  readonly order: readonly number[];
}

export interface GraphOptions {
  readonly selected: readonly number[];
  /** This repository's `owner/name`; references naming it (any case) are internal. */
  readonly repo: string | null;
}

// Plain maps rather than @dagrejs/graphlib: inserting 10,000 issues and 20,000
// edges into a graphlib Graph alone takes 70–180 ms here (string-keyed objects),
// and its recursive Tarjan overflows the stack on long chains.

/**
 * Builds the dependency graph of the selected issues. A closed issue counts as
 * merged whatever it depended on, so its own dependency lines are not followed:
 * an old closed issue with a stale reference must not block planning.
 * Throws a UserError listing every broken reference or every cycle.
 */
export function buildDependencyGraph(issues: readonly Issue[], options: GraphOptions): DependencyGraph {
  const byNumber = new Map<number, Issue>();
  for (const issue of issues) byNumber.set(issue.number, issue);
  const missing = [...new Set(options.selected)].filter((n) => !byNumber.has(n)).sort(ascending);
  if (missing.length > 0) {
    const known = byNumber.size === 0 ? "none" : formatIssueList([...byNumber.keys()]);
    throw new UserError(
      `${missing.length === 1 ? "issue" : "issues"} ${issueListText(missing)} ${missing.length === 1 ? "does" : "do"} not exist; known issues: ${known}`,
      { hint: "Pass the numbers of existing issues, or none to plan every open issue." },
    );
  }

  const successors = new Map<number, number[]>();
  const predecessors = new Map<number, number[]>();
  const external = new Map<number, string[]>();
  const problems: string[] = [];
  const thisRepo = options.repo?.toLowerCase() ?? null;
  const stack = [...options.selected];

  while (stack.length > 0) {
    const n = stack.pop() ?? 0;
    const issue = byNumber.get(n);
    if (issue === undefined || successors.has(n)) continue;
    const deps: number[] = [];
    const outside: string[] = [];
    successors.set(n, deps);
    external.set(n, outside);
    if (!predecessors.has(n)) predecessors.set(n, []);
    if (issue.state === "closed") continue;
    for (const mention of parseDependencyMentions(issue.body)) {
      if (mention.repo !== null && mention.repo.toLowerCase() !== thisRepo) {
        const ref = `${mention.repo}#${mention.number}`;
        if (!outside.some((known) => known.toLowerCase() === ref.toLowerCase())) outside.push(ref);
        continue;
      }
      const dep = mention.number;
      if (dep === n) {
        problems.push(`issue #${n} depends on itself (line "${mention.line}")`);
      } else if (!byNumber.has(dep)) {
        problems.push(`issue #${n} depends on #${dep}, which does not exist (line "${mention.line}")`);
      } else if (!deps.includes(dep)) {
        deps.push(dep);
        const dependents = predecessors.get(dep);
        if (dependents === undefined) predecessors.set(dep, [n]);
        else dependents.push(n);
        if (!successors.has(dep)) stack.push(dep);
      }
    }
  }
  // Most lists hold one number or none: sorting those only costs calls.
  for (const list of successors.values()) if (list.length > 1) list.sort(ascending);
  for (const list of predecessors.values()) if (list.length > 1) list.sort(ascending);

  const { rounds, rest } = topologicalRounds(successors, predecessors);
  if (rest.length > 0) problems.push(...cycleProblems(successors, rest, byNumber, thisRepo));
  if (problems.length > 0) throw dependencyError(problems.sort(byIssueNumber));

  const nodes = new Map<number, DependencyNode>();
  const order = rounds.flat();
  for (const n of order) {
    nodes.set(n, {
      number: n,
      dependencies: successors.get(n) ?? [],
      external: external.get(n) ?? [],
      dependents: predecessors.get(n) ?? [],
    });
  }
  return { nodes, rounds, order };
}

type Adjacency = ReadonlyMap<number, readonly number[]>;

/** Kahn's algorithm, iterative so a 10,000-issue chain cannot overflow the stack. */
function topologicalRounds(successors: Adjacency, predecessors: Adjacency): { rounds: number[][]; rest: number[] } {
  const remaining = new Map<number, number>();
  let round: number[] = [];
  for (const [n, deps] of successors) {
    remaining.set(n, deps.length);
    if (deps.length === 0) round.push(n);
  }
  const rounds: number[][] = [];
  while (round.length > 0) {
    round.sort(ascending);
    rounds.push(round);
    const next: number[] = [];
    for (const n of round) {
      for (const dependent of predecessors.get(n) ?? []) {
        const left = (remaining.get(dependent) ?? 0) - 1;
        remaining.set(dependent, left);
        if (left === 0) next.push(dependent);
      }
    }
    round = next;
  }
  const rest = [...remaining].filter(([, left]) => left > 0).map(([n]) => n);
  return { rounds, rest };
}

function cycleProblems(
  successors: Adjacency,
  rest: readonly number[],
  issues: ReadonlyMap<number, Issue>,
  thisRepo: string | null,
): string[] {
  // Lines are looked up again only here, so the common path keeps no per-edge text.
  const lineOf = (n: number, dep: number): string =>
    parseDependencyMentions(issues.get(n)?.body ?? "").find(
      (m) => m.number === dep && (m.repo === null || m.repo.toLowerCase() === thisRepo),
    )?.line ?? `#${dep}`;
  return findCycles(rest, (n) => successors.get(n) ?? []).map(({ cycle, others }) => {
    const path = [...cycle, cycle[0] ?? 0].map((n) => `#${n}`).join(" → ");
    const edges = cycle.map((n, i) => {
      const dep = cycle[(i + 1) % cycle.length] ?? 0;
      return `#${n}: "${lineOf(n, dep)}"`;
    });
    const tangled = others.length > 0 ? `; also caught in it: ${issueListText(others)}` : "";
    return `dependency cycle: ${path} (each depends on the next${tangled}); lines: ${edges.join(", ")}`;
  });
}

const MAX_PROBLEMS = 20;

function dependencyError(problems: readonly string[]): UserError {
  const cycles = problems.some((p) => p.startsWith("dependency cycle"));
  const broken = problems.some((p) => !p.startsWith("dependency cycle"));
  const hint = [
    broken ? "Fix or remove the dependency lines that name a missing issue or the issue itself." : "",
    cycles ? "Remove one of the listed blocked-by lines from each cycle." : "",
  ].filter((line) => line !== "");
  const shown = problems.slice(0, MAX_PROBLEMS).map((p) => `  - ${p}`);
  if (problems.length > MAX_PROBLEMS) shown.push(`  … and ${problems.length - MAX_PROBLEMS} more`);
  const message =
    problems.length === 1 ? (problems[0] ?? "") : `${problems.length} problems in issue dependencies:\n${shown.join("\n")}`;
  return new UserError(message, { hint: hint.join(" ") });
}

/** Orders messages by the first issue number they name, then by text. */
function byIssueNumber(a: string, b: string): number {
  const first = (text: string): number => Number(/#(\d+)/.exec(text)?.[1] ?? 0);
  return first(a) - first(b) || a.localeCompare(b);
}

function ascending(a: number, b: number): number {
  return a - b;
}

interface Cycle {
  /** The issues of one cycle, in order, starting at the smallest number. */
  readonly cycle: readonly number[];
  /** Other issues in the same strongly connected component, ascending. */
  readonly others: readonly number[];
}

/**
 * One cycle per strongly connected component of two or more issues, ordered by
 * their smallest issue. Tarjan's algorithm with an explicit stack, because a
 * recursive one (graphlib's `alg.findCycles`) overflows on a 10,000-issue chain.
 */
function findCycles(nodes: readonly number[], successors: (n: number) => readonly number[]): Cycle[] {
  const inScope = new Set(nodes);
  const index = new Map<number, number>();
  const low = new Map<number, number>();
  const onStack = new Set<number>();
  const stack: number[] = [];
  const components: number[][] = [];
  for (const root of [...nodes].sort(ascending)) {
    if (index.has(root)) continue;
    const work: { node: number; next: number; edges: readonly number[] }[] = [];
    const enter = (n: number): void => {
      index.set(n, index.size);
      low.set(n, index.get(n) ?? 0);
      stack.push(n);
      onStack.add(n);
      work.push({ node: n, next: 0, edges: successors(n).filter((s) => inScope.has(s)) });
    };
    enter(root);
    while (work.length > 0) {
      const frame = work[work.length - 1];
      if (frame === undefined) break;
      const child = frame.edges[frame.next++];
      if (child !== undefined) {
        if (!index.has(child)) enter(child);
        else if (onStack.has(child)) low.set(frame.node, Math.min(low.get(frame.node) ?? 0, index.get(child) ?? 0));
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node) ?? 0, low.get(frame.node) ?? 0));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: number[] = [];
        let member: number | undefined;
        do {
          member = stack.pop();
          if (member !== undefined) {
            onStack.delete(member);
            component.push(member);
          }
        } while (member !== undefined && member !== frame.node);
        if (component.length > 1) components.push(component.sort(ascending));
      }
    }
  }
  return components
    .sort((a, b) => (a[0] ?? 0) - (b[0] ?? 0))
    .map((component) => {
      const cycle = shortestCycle(component, successors);
      const inCycle = new Set(cycle);
      return { cycle, others: component.filter((n) => !inCycle.has(n)) };
    });
}

/** The shortest cycle through the component's smallest issue (breadth-first, ascending). */
function shortestCycle(component: readonly number[], successors: (n: number) => readonly number[]): number[] {
  const members = new Set(component);
  const start = component[0] ?? 0;
  const parent = new Map<number, number>();
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i] ?? start;
    for (const next of successors(node)) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [node];
        for (let at = node; at !== start; ) path.push((at = parent.get(at) ?? start));
        return path.reverse();
      }
      if (!parent.has(next)) {
        parent.set(next, node);
        queue.push(next);
      }
    }
  }
  return [...component];
}

/** `#1–#5, #7, #9–#12`, cut short after a dozen runs. */
export function formatIssueList(issueNumbers: readonly number[]): string {
  const sorted = [...new Set(issueNumbers)].sort(ascending);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    runs.push(j - i >= 2 ? `#${sorted[i] ?? 0}–#${sorted[j] ?? 0}` : sorted.slice(i, j + 1).map((n) => `#${n}`).join(", "));
    i = j + 1;
  }
  const flat = runs.join(", ").split(", ");
  return flat.length <= 12 ? flat.join(", ") : `${flat.slice(0, 12).join(", ")}, … (${sorted.length} issues)`;
}

function issueListText(issueNumbers: readonly number[]): string {
  return issueNumbers.map((n) => `#${n}`).join(", ");
}
