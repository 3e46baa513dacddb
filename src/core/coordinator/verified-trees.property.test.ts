import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { CoordinatorEvent, CoordinatorEventType } from "./events.ts";
import { decide } from "./decide.ts";
import { openAttempt } from "./queries.ts";
import { simulate, SIMULATION_START, type SimulationPlan, type SimulationResult } from "./simulate.ts";
import type { IssueScript, ScriptedOutcome } from "./simulation.ts";
import { drawnGraph, seededChoice } from "../../../test/support/simulation-cases.ts";
import { replay } from "./state.ts";
import { contentsOf, treeId, treePasses } from "./world-contents.ts";

/**
 * The rule: every commit cspace puts on the feature branch has a tree on
 * which verify passed. The simulated world answers verify from a tree's
 * contents (world-contents.ts), with pairs of issues that pass alone and fail
 * together, so a merge that skipped the verification of its exact tree shows.
 */

const OUTCOMES: readonly ScriptedOutcome[] = ["success", "failure", "crash", "no-commits", "blocked", "lost"];

interface Case {
  readonly plan: SimulationPlan;
  readonly deps: ReadonlyMap<number, readonly number[]>;
  readonly pairs: readonly (readonly [number, number])[];
}

const cases: fc.Arbitrary<Case> = fc
  .integer({ min: 2, max: 8 })
  .chain((size) =>
    fc.record({
      numbers: fc.uniqueArray(fc.integer({ min: 1, max: 40 }), { minLength: size, maxLength: size }),
      edges: fc.array(
        fc.oneof({ arbitrary: fc.constant([]), weight: 3 }, { arbitrary: fc.array(fc.nat({ max: size - 1 }), { maxLength: 2 }), weight: 2 }),
        { minLength: size, maxLength: size },
      ),
      pairs: fc.array(fc.tuple(fc.nat({ max: size - 1 }), fc.nat({ max: size - 1 })), { maxLength: 3 }),
      scripts: fc.array(
        fc.record({
          attempts: fc.array(fc.oneof({ arbitrary: fc.constant<ScriptedOutcome>("success"), weight: 5 }, { arbitrary: fc.constantFrom(...OUTCOMES), weight: 1 }), { maxLength: 3 }),
          verify: fc.array(fc.constantFrom("pass", "pass", "pass", "fail"), { maxLength: 2 }),
          checks: fc.array(fc.constantFrom("green", "green", "pending", "conflicting"), { maxLength: 2 }),
          landing: fc.array(fc.constantFrom("clean", "clean", "clean", "conflict"), { maxLength: 2 }),
        }),
        { minLength: size, maxLength: size },
      ),
      maxParallel: fc.integer({ min: 1, max: 4 }),
      maxAttempts: fc.integer({ min: 1, max: 4 }),
      stacking: fc.boolean(),
      train: fc.integer({ min: 1, max: 4 }),
      seed: fc.integer(),
    }),
  )
  .map(({ numbers, edges, pairs, scripts, maxParallel, maxAttempts, stacking, train, seed }): Case => {
    const { deps, issues, scripts: byNumber } = drawnGraph(numbers, edges, scripts);
    const incompatible = pairs.filter(([a, b]) => a !== b).map(([a, b]) => [numbers[a] ?? 0, numbers[b] ?? 0] as const);
    const plan: SimulationPlan = {
      issues,
      scripts: byNumber,
      settings: { maxParallel, maxAttempts, stacking, train },
      semantics: { incompatible },
      choose: seededChoice(seed),
      maxSteps: 8_000,
    };
    return { plan, deps, pairs: incompatible };
  });

function eventsOf<T extends CoordinatorEventType>(events: readonly CoordinatorEvent[], type: T): Extract<CoordinatorEvent, { type: T }>[] {
  return events.filter((event): event is Extract<CoordinatorEvent, { type: T }> => event.type === type);
}

/**
 * Every squash merge's tree, as the world made it, against the verifications
 * recorded before it: each must be a tree that passed, verified for that head
 * on the tip as it was (the merges made since that tip being exactly the
 * train's cars ahead of it, in order), and that tree must really pass.
 */
function unverifiedLandings(plan: SimulationPlan): { result: SimulationResult; problems: string[] } {
  const passed: { issue: number; headSha: string; epoch: number; ahead: readonly string[]; tree: string }[] = [];
  const merges: { issue: number; headSha: string; squashSha: string; epoch: number; landed: readonly string[] }[] = [];
  const landed: string[] = [];
  const result = simulate({
    ...plan,
    onEvent: (event, before) => {
      if (event.type === "LandingVerified") passed.push({ issue: event.issue, headSha: event.headSha, epoch: event.epoch, ahead: (event.ahead ?? []).map((car) => `${String(car.issue)}@${car.headSha}`), tree: event.tree });
      if (event.type === "Merged" && before.issues[event.issue]?.merge?.squashSha == null) {
        merges.push({ issue: event.issue, headSha: event.headSha, squashSha: event.squashSha, epoch: before.epoch, landed: [...landed] });
        landed.push(`${String(event.issue)}@${event.headSha}`);
      }
    },
  });
  const problems: string[] = [];
  for (const merge of merges) {
    const contents = contentsOf(result.world, merge.squashSha);
    const tree = treeId(contents);
    const onThatTip = (p: (typeof passed)[number]): boolean => p.epoch + p.ahead.length === merge.epoch && p.ahead.every((car, i) => merge.landed[p.epoch + i] === car);
    const verified = passed.some((p) => p.issue === merge.issue && p.headSha === merge.headSha && onThatTip(p) && p.tree === tree);
    if (!verified) problems.push(`#${merge.issue} landed ${tree} with no passing verification of that tree on that tip`);
    if (!treePasses(plan.semantics ?? {}, contents)) problems.push(`#${merge.issue} landed ${tree}, which fails verify`);
  }
  return { result, problems };
}

describe("only verified trees land, over random graphs, outcomes, incompatible pairs and report orders", { timeout: 120_000 }, () => {
  it("no merge lands a tree without a passing verification of that exact tree, and every issue ends merged, failed or blocked", () => {
    fc.assert(
      fc.property(cases, ({ plan }) => {
        const { result, problems } = unverifiedLandings(plan);
        expect(problems).toEqual([]);
        expect(result.finished).toBe(true);
        for (const issue of Object.values(result.state.issues)) expect(["merged", "failed", "blocked"]).toContain(issue.status.kind);
        expect(replay(result.events)).toEqual(result.state);
      }),
      { numRuns: 250 },
    );
  });

  it("without the rule (verifyLanding off) the same worlds land trees that fail: the property has teeth", () => {
    const broken = fc.sample(cases, { numRuns: 400, seed: 7 }).some(({ plan }) => unverifiedLandings({ ...plan, settings: { ...plan.settings, verifyLanding: false } }).problems.some((p) => p.includes("fails verify")));
    expect(broken).toBe(true);
  });

  it("an issue held back only by partners it fails together with still merges, given an attempt more per partner", () => {
    fc.assert(
      fc.property(cases, ({ plan, deps, pairs }) => {
        // Each failure on a combined tree is against a partner merged since the issue's work was written, which its
        // retry then sees for good: a pair costs one side at most one attempt.
        const settings = { ...plan.settings, maxAttempts: 1 + pairs.length };
        const clean: Record<number, IssueScript> = {};
        for (const n of deps.keys()) clean[n] = {};
        const { result, problems } = unverifiedLandings({ ...plan, settings, scripts: clean });
        expect(problems).toEqual([]);
        // One side of a pair fails at most once on the combined tree, is told what changed, and merges on its next attempt.
        expect(Object.values(result.state.issues).map((issue) => [issue.number, issue.status.kind])).toEqual([...deps.keys()].sort((a, b) => a - b).map((n) => [n, "merged"]));
        if (pairs.length === 0) expect(eventsOf(result.events, "LandingFailed")).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });
});

describe("only verified trees land: scenarios", () => {
  it("a semantic conflict between two independent issues: the second fails on the combined tree, is retried with what changed underneath, and merges", () => {
    const result = simulate({ issues: { 11: [], 12: [] }, settings: { maxParallel: 2, maxAttempts: 2 }, semantics: { incompatible: [[11, 12]] } });
    expect(result.finished).toBe(true);
    expect(eventsOf(result.events, "Merged").map((event) => event.issue)).toEqual([11, 12]);
    const failed = eventsOf(result.events, "LandingFailed");
    expect(failed.map((event) => event.issue)).toEqual([12]);
    const retry = eventsOf(result.events, "Retried").find((event) => event.issue === 12);
    expect(retry?.failure.summary).toContain("though issue-12 alone passed and feature/sim alone passes");
    expect(retry?.failure.output).toContain("What changed underneath");
    expect(retry?.prompt).toMatchObject({ kind: "retry", attempt: 2 });
    // Judged only once the tip alone was known to pass: the start's verification; after #11's merge the tip is #11's
    // verified tree, so it is not verified alone again.
    expect(eventsOf(result.events, "BaseVerified").map((event) => [event.epoch, event.passed])).toEqual([[0, true]]);
  });

  it("a red feature branch is reported once, and no agent starts, so no attempt is spent", () => {
    const result = simulate({ issues: { 11: [], 12: [], 13: [11] }, semantics: { redBase: true } });
    expect(result.finished).toBe(true);
    const verdicts = eventsOf(result.events, "BaseVerified");
    expect(verdicts.map((event) => event.passed)).toEqual([false]);
    expect(eventsOf(result.events, "Launched")).toEqual([]);
    for (const issue of Object.values(result.state.issues)) {
      expect(issue.status.kind).toBe("blocked");
      expect(issue.status.reason).toContain("feature/sim is red at f0: every candidate would fail");
    }
    expect(result.state.finished?.exitCode).toBe(1);
  });

  it("after a squash whose tree is not the verified one, a candidate whose verification was under way is not merged", () => {
    const first = simulate({ issues: { 11: [], 12: [] }, settings: { maxParallel: 2, train: 1 } });
    const upTo = first.events.slice(0, first.events.findIndex((event) => event.type === "Merged") + 1);
    const squash = eventsOf(upTo, "Merged")[0];
    if (squash === undefined) throw new Error("no merge");
    const mismatch: CoordinatorEvent = { type: "LandingMismatched", at: squash.at, issue: squash.issue, squashSha: squash.squashSha, squashTree: "aaaaaaa", verifiedTree: "bbbbbbb" };
    const other = squash.issue === 11 ? 12 : 11;
    const head = replay(upTo).issues[other]?.pushedSha;
    if (head == null) throw new Error(`#${String(other)} had pushed nothing when #${String(squash.issue)} merged`);
    // The other's landing was verified on the new tip by a verification dispatched before the trees were compared.
    const late: CoordinatorEvent = { type: "LandingVerified", at: squash.at, issue: other, headSha: head, epoch: 1, baseSha: squash.squashSha, tree: "ccccccc" };
    const checked: CoordinatorEvent = { type: "PullRequestChecked", at: squash.at, issue: other, pr: replay(upTo).issues[other]?.pullRequest?.number ?? 0, headSha: head, epoch: 1, mergeability: "mergeable", checks: "success", details: [], conflicts: [] };
    const actions = decide(replay([...upTo, mismatch, late, checked]), SIMULATION_START + 60_000);
    expect(actions.filter((action) => action.type === "Merge")).toEqual([]);
    expect(actions).toContainEqual(expect.objectContaining({ type: "Fail", issue: other, reason: expect.stringContaining("cspace stopped merging") as unknown }));
  });

  it("a squash commit whose tree is not the verified one stops the run: nothing more is verified or merged, every issue left fails", () => {
    const first = simulate({ issues: { 11: [], 12: [] }, settings: { maxParallel: 2 } });
    const upTo = first.events.slice(0, first.events.findIndex((event) => event.type === "Merged") + 1);
    const squash = eventsOf(upTo, "Merged")[0];
    if (squash === undefined) throw new Error("no merge");
    const mismatch: CoordinatorEvent = { type: "LandingMismatched", at: squash.at, issue: squash.issue, squashSha: squash.squashSha, squashTree: "aaaaaaa", verifiedTree: "bbbbbbb" };
    const state = replay([...upTo, mismatch]);
    const actions = decide(state, SIMULATION_START + 60_000);
    expect(actions.filter((action) => action.type === "Merge" || action.type === "VerifyLanding" || action.type === "Launch")).toEqual([]);
    const other = squash.issue === 11 ? 12 : 11;
    if (openAttempt(state.issues[other] ?? ({} as never)) === null) {
      expect(actions).toContainEqual(expect.objectContaining({ type: "Fail", issue: other, reason: expect.stringContaining("cspace stopped merging") as unknown }));
    }
  });
});
