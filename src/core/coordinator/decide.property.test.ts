import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Action } from "./actions.ts";
import { decide } from "./decide.ts";
import type { CoordinatorEvent } from "./events.ts";
import { isMerged, openAttempt } from "./queries.ts";
import { exitCodeOf } from "./report.ts";
import { simulate, SIMULATION_START, type SimulationPlan } from "./simulate.ts";
import type { ScriptedOutcome } from "./simulation.ts";
import { drawnGraph, seededChoice } from "../../../test/support/simulation-cases.ts";
import { replay, type CoordinatorState } from "./state.ts";

const OUTCOMES: readonly ScriptedOutcome[] = ["success", "failure", "crash", "oom", "no-commits", "blocked", "rate-limited", "lost", "interrupted"];
const CLEAN: ReadonlySet<ScriptedOutcome> = new Set(["success", "rate-limited", "interrupted"]);

interface Case {
  readonly plan: SimulationPlan;
  readonly deps: ReadonlyMap<number, readonly number[]>;
  readonly seed: number;
}

/** A random DAG (an issue depends only on issues generated before it) under shuffled numbers, with a script per issue. */
const cases: fc.Arbitrary<Case> = fc
  .integer({ min: 1, max: 9 })
  .chain((size) =>
    fc.record({
      numbers: fc.uniqueArray(fc.integer({ min: 1, max: 60 }), { minLength: size, maxLength: size }),
      edges: fc.array(
        fc.oneof(
          { arbitrary: fc.constant([]), weight: 2 },
          { arbitrary: fc.tuple(fc.nat({ max: size - 1 })), weight: 4 },
          { arbitrary: fc.array(fc.nat({ max: size - 1 }), { maxLength: 3 }), weight: 2 },
        ),
        { minLength: size, maxLength: size },
      ),
      scripts: fc.array(
        fc.record({
          warm: fc.constantFrom("ok", "ok", "ok", "ok", "ok", "ok", "fail"),
          launch: fc.array(fc.constantFrom("ok", "ok", "ok", "unstartable"), { maxLength: 3 }),
          attempts: fc.array(fc.oneof({ arbitrary: fc.constant<ScriptedOutcome>("success"), weight: 4 }, { arbitrary: fc.constantFrom(...OUTCOMES), weight: 2 }), { maxLength: 4 }),
          verify: fc.array(fc.constantFrom("pass", "pass", "fail"), { maxLength: 3 }),
          restack: fc.array(fc.constantFrom("ok", "conflict"), { maxLength: 3 }),
          checks: fc.array(fc.constantFrom("green", "green", "pending", "failing", "conflicting"), { maxLength: 3 }),
        }),
        { minLength: size, maxLength: size },
      ),
      maxParallel: fc.integer({ min: 1, max: 4 }),
      maxAttempts: fc.integer({ min: 1, max: 3 }),
      review: fc.boolean(),
      stacking: fc.oneof({ arbitrary: fc.constant(true), weight: 3 }, { arbitrary: fc.constant(false), weight: 1 }),
      verify: fc.boolean(),
      seed: fc.integer(),
    }),
  )
  .map(({ numbers, edges, scripts, maxParallel, maxAttempts, review, stacking, verify, seed }): Case => {
    const { deps, issues, scripts: byNumber } = drawnGraph(numbers, edges, scripts);
    const plan: SimulationPlan = {
      issues,
      scripts: byNumber,
      settings: { maxParallel, maxAttempts, review, stacking, verify: { all: verify ? "npm test" : null, e2e: null } },
      choose: seededChoice(seed),
      maxSteps: 6_000,
    };
    return { plan, deps, seed };
  });

function openCount(state: CoordinatorState): number {
  return Object.values(state.issues).filter((issue) => openAttempt(issue) !== null).length;
}

const maxParallelOf = (plan: SimulationPlan): number => plan.settings?.maxParallel ?? 2;

describe("decide, over random graphs and random report orders and outcomes", { timeout: 60_000 }, () => {
  it("merges nothing before its dependencies, never runs more than maxParallel agents, launches no attempt twice, verifies a stacked branch only on its parent's verified head, and always finishes", () => {
    fc.assert(
      fc.property(cases, ({ plan, deps }) => {
        const launches = new Set<string>();
        const problems: string[] = [];
        const result = simulate({
          ...plan,
          onEvent: (event, before, after) => {
            if (event.type === "Merged") {
              for (const d of deps.get(event.issue) ?? []) {
                const dependency = before.issues[d];
                if (dependency !== undefined && !isMerged(dependency)) problems.push(`#${event.issue} merged before its dependency #${d}`);
              }
            }
            if (event.type === "Launched") {
              const key = `${event.issue}:${event.attempt}`;
              if (launches.has(key)) problems.push(`attempt ${key} launched twice`);
              launches.add(key);
            }
            if (openCount(after) > maxParallelOf(plan)) problems.push(`${openCount(after)} agents running after ${event.type}`);
          },
          onDecide: (actions, state, inFlight) => {
            const launching = [...inFlight, ...actions].filter((a) => a.type === "Launch").length;
            if (openCount(state) + launching > maxParallelOf(plan)) problems.push(`decide would run ${openCount(state) + launching} agents`);
            for (const action of actions) problems.push(...repeats(state, action), ...verifiedOffItsParent(state, action));
          },
        });
        expect(problems).toEqual([]);
        expect(result.finished, stuck(result.state, result.events)).toBe(true);
        for (const issue of Object.values(result.state.issues)) expect(["merged", "failed", "blocked"]).toContain(issue.status.kind);
        const exit = Object.values(result.state.issues).every((issue) => issue.status.kind === "merged") ? 0 : 1;
        expect(result.state.finished?.exitCode).toBe(exit);
        expect(exitCodeOf(result.state)).toBe(exit);
      }),
      { numRuns: 300 },
    );
  });

  it("merges every issue whose own work and whose dependencies' work never fail", () => {
    fc.assert(
      fc.property(cases, ({ plan, deps }) => {
        const result = simulate(plan);
        const clean = (n: number): boolean => {
          const script = plan.scripts?.[n] ?? {};
          return (
            script.warm !== "fail" &&
            (script.launch ?? []).every((launch) => launch === "ok") &&
            (script.attempts ?? []).every((outcome) => CLEAN.has(outcome)) &&
            (script.verify ?? []).every((v) => v === "pass") &&
            (script.checks ?? []).every((c) => c === "green" || c === "pending") &&
            (deps.get(n) ?? []).every(clean)
          );
        };
        for (const n of deps.keys()) if (clean(n)) expect(result.state.issues[n]?.status.kind, `#${n}`).toBe("merged");
      }),
      { numRuns: 200 },
    );
  });

  it("replaying the event log (also through JSON) reproduces the state", () => {
    fc.assert(
      fc.property(cases, ({ plan }) => {
        const result = simulate(plan);
        expect(replay(result.events)).toEqual(result.state);
        const stored = JSON.parse(JSON.stringify(result.events)) as CoordinatorEvent[];
        expect(replay(stored)).toEqual(result.state);
        // Every event applied twice in a row changes nothing the second time.
        expect(replay(result.events.flatMap((event) => [event, event]))).toEqual(result.state);
      }),
      { numRuns: 150 },
    );
  });

  it("after a stop at any point, the replayed state asks for no launch or merge already recorded", () => {
    fc.assert(
      fc.property(cases, fc.nat(), ({ plan }, cut) => {
        const { events } = simulate(plan);
        const prefix = events.slice(0, 2 + (cut % Math.max(1, events.length - 1)));
        const state = replay(prefix);
        for (const action of decide(state, SIMULATION_START + 3_600_000)) expect(repeats(state, action)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });
});

/** What a run that did not finish was left doing, for the failure message. */
function stuck(state: CoordinatorState, events: readonly CoordinatorEvent[]): string {
  const statuses = Object.values(state.issues).map((issue) => `#${issue.number} ${issue.status.kind}: ${issue.status.reason}`);
  const actions = decide(state, SIMULATION_START + 86_400_000).map((action) => JSON.stringify(action));
  return [...statuses, `decide: ${actions.join(" ") || "nothing"}`, `last: ${events.slice(-5).map((e) => e.type).join(", ")}`].join("\n");
}

/** A verify of a stacked branch that does not sit on its parent's verified pushed head (the parent not merged). */
function verifiedOffItsParent(state: CoordinatorState, action: Action): string[] {
  if (action.type !== "Verify") return [];
  const issue = state.issues[action.issue];
  const parent = issue?.stackedOn == null ? undefined : state.issues[issue.stackedOn];
  if (issue === undefined || parent === undefined || isMerged(parent)) return [];
  const onVerifiedHead = issue.baseSha === parent.pushedSha && parent.verification?.headSha === parent.pushedSha && parent.verification.passed;
  return onVerifiedHead ? [] : [`verify of #${issue.number} on ${String(issue.baseSha)}, while #${parent.number}'s verified head is ${String(parent.pushedSha)}`];
}

/** An action whose outcome the state already records: a repeated launch or merge. */
function repeats(state: CoordinatorState, action: Action): string[] {
  if (action.type === "Launch" && (state.issues[action.issue]?.attempts.length ?? 0) >= action.attempt) {
    return [`launch of attempt ${action.attempt} of #${action.issue}, already launched`];
  }
  const issue = action.type === "Merge" ? state.issues[action.issue] : undefined;
  return issue !== undefined && isMerged(issue) ? [`merge of #${issue.number}, already merged`] : [];
}
