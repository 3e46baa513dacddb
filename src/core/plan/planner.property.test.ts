import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { issue } from "../../../test/fakes/issues.ts";
import { UserError } from "../errors.ts";
import { buildDependencyGraph } from "../graph/dependency-graph.ts";
import type { Issue } from "../issues/issue.ts";
import { planRound, type PlanInput } from "./planner.ts";

const FEATURE = "feature/x";
const EXTERNAL_STATES = ["open", "closed", "unknown"] as const;

interface World {
  readonly issues: readonly Issue[];
  /** Issue number → internal dependencies. */
  readonly deps: ReadonlyMap<number, readonly number[]>;
  readonly input: PlanInput;
}

/**
 * A random DAG (an issue depends only on issues generated before it) under
 * shuffled numbers, with closed, merged and running issues chosen so the
 * running ones could really be running: at most one unmerged dependency, itself running.
 */
const worlds: fc.Arbitrary<World> = fc
  .integer({ min: 1, max: 25 })
  .chain((size) =>
    fc.record({
      numbers: fc.uniqueArray(fc.integer({ min: 1, max: 500 }), { minLength: size, maxLength: size }),
      // Mostly zero or one dependency, so chains and stacking are common.
      edges: fc.array(
        fc.oneof(
          { arbitrary: fc.constant([]), weight: 2 },
          { arbitrary: fc.tuple(fc.nat({ max: size - 1 })), weight: 4 },
          { arbitrary: fc.array(fc.nat({ max: size - 1 }), { maxLength: 4 }), weight: 1 },
        ),
        { minLength: size, maxLength: size },
      ),
      states: fc.array(fc.constantFrom("open", "open", "open", "open", "closed", "merged"), { minLength: size, maxLength: size }),
      running: fc.array(fc.boolean(), { minLength: size, maxLength: size }),
      external: fc.array(fc.option(fc.constantFrom(...EXTERNAL_STATES), { freq: 3 }), { minLength: size, maxLength: size }),
      selected: fc.array(fc.boolean(), { minLength: size, maxLength: size }),
      maxParallel: fc.option(fc.integer({ min: 1, max: size + 2 }), { nil: null }),
    }),
  )
  .map(({ numbers, edges, states, running, external, selected, maxParallel }) => {
    const deps = new Map<number, number[]>();
    const issues: Issue[] = [];
    const merged = new Set<number>();
    const launched = new Set<number>();
    const externalStates = new Map<string, "open" | "closed">();
    numbers.forEach((n, i) => {
      const own = [...new Set((edges[i] ?? []).filter((j) => j < i).map((j) => numbers[j] ?? 0))];
      deps.set(n, own);
      const ext = external[i];
      const externalDeps = ext === null || ext === undefined ? [] : [`ext/lib#${n}`];
      if (ext === "open" || ext === "closed") externalStates.set(`ext/lib#${n}`, ext);
      const state = states[i];
      issues.push(issue(n, { deps: own, externalDeps, state: state === "closed" ? "closed" : "open" }));
      if (state === "merged") merged.add(n);
      const done = (d: number): boolean => merged.has(d) || issues.find((x) => x.number === d)?.state === "closed";
      const unmerged = own.filter((d) => !done(d));
      const canRun = unmerged.length === 0 || (unmerged.length === 1 && launched.has(unmerged[0] ?? 0));
      if (state === "open" && running[i] === true && externalDeps.length === 0 && canRun) launched.add(n);
    });
    const picked = numbers.filter((_, i) => selected[i] === true);
    const chosen = picked.length > 0 ? picked : numbers;
    const input: PlanInput = {
      graph: buildDependencyGraph(issues, { selected: chosen, repo: null }),
      issues,
      selected: chosen,
      featureBranch: FEATURE,
      maxParallel: maxParallel ?? numbers.length,
      launched,
      merged,
      externalStates,
    };
    return { issues, deps, input };
  });

function unmergedOf(world: World, n: number): (number | string)[] {
  const { input, issues } = world;
  const closed = (d: number): boolean => input.merged.has(d) || issues.find((x) => x.number === d)?.state === "closed";
  const internal = (world.deps.get(n) ?? []).filter((d) => !closed(d)).sort((a, b) => a - b);
  const external = (input.graph.nodes.get(n)?.external ?? []).filter((ref) => input.externalStates.get(ref) !== "closed");
  return [...internal, ...external];
}

describe("planRound properties", () => {
  it("plans every launch on a base it can have, and nothing with two unmerged dependencies", () => {
    fc.assert(
      fc.property(worlds, (world) => {
        const plan = planRound(world.input);
        const byNumber = new Map(plan.issues.map((p) => [p.number, p]));
        for (const planned of plan.issues) {
          if (planned.action !== "launch") continue;
          const unmerged = unmergedOf(world, planned.number);
          expect(unmerged.length).toBeLessThanOrEqual(1);
          if (planned.base === FEATURE) {
            expect(unmerged).toEqual([]);
            continue;
          }
          const dep = unmerged[0];
          if (typeof dep !== "number") throw new Error(`#${planned.number} launched stacked on ${String(dep)}`);
          expect(planned.base).toBe(`issue-${dep}`);
          // A base is a running issue's branch: one launched this round has no verified work yet.
          expect(world.input.launched.has(dep)).toBe(true);
          expect(byNumber.get(dep)?.action).not.toBe("launch");
        }
      }),
      { numRuns: 300 },
    );
  });

  it("launches every ready issue on the feature branch, and every stackable one, given enough slots", () => {
    fc.assert(
      fc.property(worlds, (world) => {
        const input = { ...world.input, maxParallel: world.issues.length + world.input.launched.size + 1 };
        const plan = planRound(input);
        for (const planned of plan.issues) {
          if (planned.action === "merged" || planned.action === "running") continue;
          const unmerged = unmergedOf(world, planned.number);
          if (unmerged.length === 0) expect(planned).toMatchObject({ action: "launch", base: FEATURE });
          const only = unmerged.length === 1 ? unmerged[0] : undefined;
          // Whatever the numbering: on a running issue's branch.
          if (typeof only === "number" && input.launched.has(only) && !input.merged.has(only)) {
            expect(planned).toMatchObject({ action: "launch", base: `issue-${only}` });
          }
          if (planned.action === "wait") expect(planned.waitingOn).not.toContain("slot");
        }
      }),
      { numRuns: 300 },
    );
  });

  it("never launches more issues than there are free slots, and waits for a slot only when launchable", () => {
    fc.assert(
      fc.property(worlds, (world) => {
        const plan = planRound(world.input);
        const running = [...world.input.launched].filter((n) => !world.input.merged.has(n)).length;
        const launches = plan.issues.filter((p) => p.action === "launch").length;
        expect(launches).toBeLessThanOrEqual(Math.max(0, world.input.maxParallel - running));
        for (const planned of plan.issues) {
          if (planned.action === "wait" && planned.waitingOn.includes("slot")) {
            expect(planned.waitingOn).toEqual(["slot"]);
            expect(launches).toBe(Math.max(0, world.input.maxParallel - running));
          }
          if (planned.action === "wait" && !planned.waitingOn.includes("slot")) {
            expect(planned.waitingOn).toEqual(unmergedOf(world, planned.number));
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it("is deterministic, whatever the order of its inputs", () => {
    fc.assert(
      fc.property(worlds, (world) => {
        const first = planRound(world.input);
        expect(planRound(world.input)).toEqual(first);
        const reversed = { ...world.input, issues: [...world.input.issues].reverse(), selected: [...world.input.selected].reverse() };
        expect(planRound(reversed)).toEqual(first);
      }),
      { numRuns: 200 },
    );
  });
});

describe("buildDependencyGraph properties", () => {
  it("rejects a graph with an injected cycle, naming a real cycle and every injected issue", () => {
    fc.assert(
      fc.property(
        worlds,
        fc.uniqueArray(fc.nat(), { minLength: 2, maxLength: 5 }),
        (world, picks) => {
          const numbers = world.issues.map((i) => i.number);
          fc.pre(numbers.length >= 2);
          const cycle = [...new Set(picks.map((p) => numbers[p % numbers.length] ?? 0))];
          fc.pre(cycle.length >= 2);
          const deps = new Map([...world.deps].map(([n, d]) => [n, [...d]]));
          cycle.forEach((n, i) => deps.get(n)?.push(cycle[(i + 1) % cycle.length] ?? 0));
          const issues = numbers.map((n) => issue(n, { deps: deps.get(n) ?? [] }));
          let caught: unknown;
          try {
            buildDependencyGraph(issues, { selected: numbers, repo: null });
          } catch (error) {
            caught = error;
          }
          expect(caught).toBeInstanceOf(UserError);
          const message = caught instanceof Error ? caught.message : "";
          for (const n of cycle) expect(message).toMatch(new RegExp(`#${n}(?!\\d)`));
          const named = /dependency cycle: ((?:#\d+ → )+#\d+)/.exec(message)?.[1]?.split(" → ").map((s) => Number(s.slice(1))) ?? [];
          expect(named.length).toBeGreaterThanOrEqual(3);
          expect(named[0]).toBe(named[named.length - 1]);
          for (let i = 0; i + 1 < named.length; i++) expect(deps.get(named[i] ?? 0)).toContain(named[i + 1]);
        },
      ),
      { numRuns: 300 },
    );
  });
});
