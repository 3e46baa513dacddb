import type { CoordinatorState } from "../coordinator/state.ts";

/** An issue's place in the dashboard's tree. */
export interface TreePlace {
  readonly issue: number;
  /** 0 for an issue with no dependency in the run, else 1 + its parent's. */
  readonly depth: number;
}

/**
 * The run's issues as a tree: each issue hangs from its first dependency in
 * the run (the lowest number) and is listed right below it, so the
 * indentation always points at a real parent. Issues under the same parent,
 * and the roots, keep the run's merge order (dependency order, then number).
 * An issue with several dependencies appears once, under the first; every
 * issue still comes after the one it hangs from.
 *
 * Iterative: a chain of hundreds of issues must not overflow the stack.
 */
export function issueTree(state: CoordinatorState): TreePlace[] {
  const order = state.run?.order ?? Object.keys(state.issues).map(Number).sort((a, b) => a - b);
  const inRun = new Set(order);
  const children = new Map<number, number[]>();
  const roots: number[] = [];
  for (const n of order) {
    const parent = state.issues[n]?.dependencies.find((d) => d !== n && inRun.has(d));
    if (parent === undefined) roots.push(n);
    else children.set(parent, [...(children.get(parent) ?? []), n]);
  }
  const places: TreePlace[] = [];
  const seen = new Set<number>();
  const stack: TreePlace[] = roots.map((issue) => ({ issue, depth: 0 })).reverse();
  for (let place = stack.pop(); place !== undefined; place = stack.pop()) {
    if (seen.has(place.issue)) continue;
    seen.add(place.issue);
    places.push(place);
    const below = children.get(place.issue) ?? [];
    for (let i = below.length - 1; i >= 0; i -= 1) {
      const child = below[i];
      if (child !== undefined) stack.push({ issue: child, depth: place.depth + 1 });
    }
  }
  // Only a cycle, which the dependency graph refuses before a run starts, leaves issues unreached: listed, not lost.
  for (const n of order) if (!seen.has(n)) places.push({ issue: n, depth: 0 });
  return places;
}
