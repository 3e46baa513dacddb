import { describe, expect, it } from "vitest";
import type { CoordinatorEvent } from "../coordinator/events.ts";
import { simulate, SIMULATION_START, type SimulationPlan } from "../coordinator/simulate.ts";
import { apply, type CoordinatorState } from "../coordinator/state.ts";
import { dashboardModel } from "./build.ts";
import type { DashboardModel, DashboardRow } from "./model.ts";

const T0 = new Date(SIMULATION_START).toISOString();

/** The model after every event of a simulated run, at the time of that event. */
function modelsOf(plan: SimulationPlan): { readonly models: DashboardModel[]; readonly states: CoordinatorState[]; readonly events: readonly CoordinatorEvent[] } {
  const models: DashboardModel[] = [];
  const states: CoordinatorState[] = [];
  const result = simulate({
    ...plan,
    onEvent: (event, _before, after) => {
      states.push(after);
      models.push(dashboardModel(after, event.at));
    },
  });
  expect(result.finished).toBe(true);
  return { models, states, events: result.events };
}

/** Every state each issue was shown in, in the order first shown, with its group. */
function wordsOf(plan: SimulationPlan): Map<number, string[]> {
  const words = new Map<number, string[]>();
  for (const model of modelsOf(plan).models) {
    for (const row of model.rows) {
      const seen = words.get(row.issue) ?? [];
      const shown = `${row.group}: ${row.state}`;
      if (!seen.includes(shown)) words.set(row.issue, [...seen, shown]);
    }
  }
  return words;
}

/** Names from the code (camelCase, or a kind in parentheses), which the dashboard must never show. */
const IDENTIFIER = /\b[a-z]+[A-Z]\w*\b|\((?:noDependencies|allMerged|oneUnmerged|severalUnmerged|pr-open|rate-limited)\)/;

function rowOf(model: DashboardModel, issue: number): DashboardRow {
  const row = model.rows.find((r) => r.issue === issue);
  if (row === undefined) throw new Error(`no row for #${String(issue)}`);
  return row;
}

describe("the dashboard's state words", () => {
  it("say what a stacked chain and a diamond wait on, how they are verified, and how they merged", () => {
    const words = wordsOf({ issues: { 10: [], 11: [], 12: [10], 13: [10, 11] } });
    expect(words.get(12)).toEqual(
      expect.arrayContaining([
        "waiting: warming",
        "waiting: waiting on #10",
        "waiting: stacked on issue-10, waiting for a slot",
        "working: working (attempt 1), stacked on issue-10",
        "working: pushing",
        "working: verifying",
        "waiting: stacked on issue-10, waiting for #10 to merge",
        "working: restacking onto feature/sim (#10 merged)",
        "working: verifying on feature/sim",
        "waiting: waiting for the forge's checks",
        "waiting: queued to merge, 1st",
        "working: merging pull request #112",
      ]),
    );
    expect(words.get(13)).toContain("waiting: waiting on #10, #11");
    expect(words.get(12)?.at(-1)).toMatch(/^merged: merged as \w{1,7} \(#112\)$/);
  });

  it("name the merge train's cars ahead while verifying, then the place in the queue to merge", () => {
    const words = wordsOf({ issues: { 1: [], 2: [], 3: [] }, settings: { maxParallel: 3, train: 3 } });
    expect(words.get(2)).toEqual(expect.arrayContaining(["working: verifying on feature/sim + #1", "waiting: queued to merge, 2nd"]));
    expect(words.get(3)).toEqual(expect.arrayContaining(["working: verifying on feature/sim + #1 + #2", "waiting: queued to merge, 3rd", "waiting: queued to merge, 2nd"]));
  });

  it("say an attempt failed and is retried, then failed for good, and block the dependents with the reason", () => {
    const words = wordsOf({
      issues: { 10: [], 12: [10], 13: [] },
      settings: { maxAttempts: 2 },
      scripts: { 10: { attempts: ["failure", "failure"] }, 13: { attempts: ["blocked"] } },
    });
    expect(words.get(10)).toEqual(
      expect.arrayContaining([
        "working: working (attempt 1)",
        "waiting: attempt 1 failed (the agent exited with code 1); 1 of 2 attempts failed",
        "waiting: retry 2 of 2 waiting for a slot",
        "working: working (attempt 2: retry)",
      ]),
    );
    expect(words.get(10)?.at(-1)).toBe("failed: failed: 2 of 2 attempts failed; the last: the agent exited with code 1");
    expect(words.get(12)?.at(-1)).toBe("blocked: blocked: dependency #10 failed");
    expect(words.get(13)?.at(-1)).toBe("blocked: blocked: needs a database password");
  });

  it("say until when a usage limit parks an issue, in UTC, and give the time for a view to show locally", () => {
    const { models } = modelsOf({ issues: { 10: [], 11: [] }, scripts: { 10: { attempts: ["rate-limited"] } } });
    const parked = models.map((m) => rowOf(m, 10)).find((row) => row.kind === "rate-limited");
    expect(parked?.state).toMatch(/^parked: usage limit until \d\d:\d\d UTC$/);
    expect(parked?.until).toMatch(/^2030-01-01T/);
    expect(parked?.state).toContain(`${(parked?.until ?? "").slice(11, 16)} UTC`);
  });

  it("say reviews, restack conflicts and rebases as such", () => {
    const words = wordsOf({ issues: { 10: [], 12: [10] }, settings: { review: true }, scripts: { 12: { restack: ["conflict"] } } });
    expect(words.get(10)).toEqual(expect.arrayContaining(["waiting: review waiting for a slot", "working: reviewing (attempt 2)"]));
    expect(words.get(12)).toEqual(
      expect.arrayContaining([
        "waiting: restack conflicted in src/shared.ts: an agent will rebase it",
        "waiting: rebase onto feature/sim waiting for a slot",
        expect.stringMatching(/^working: rebasing \(attempt \d\)$/),
      ]),
    );
  });

  it("say an instance that could not be made failed, and why", () => {
    const words = wordsOf({ issues: { 10: [], 11: [] }, scripts: { 11: { warm: "fail" } } });
    expect(words.get(11)).toEqual(["waiting: warming", "waiting: warming failed: postCreateCommand exited 1", "failed: failed: instance issue-11 could not be made: postCreateCommand exited 1"]);
  });

  it("never show an identifier of the code, in any state of any of these runs", () => {
    const plans: SimulationPlan[] = [
      { issues: { 10: [], 11: [], 12: [10], 13: [10, 11] } },
      { issues: { 1: [], 2: [], 3: [] }, settings: { maxParallel: 3, train: 3 } },
      { issues: { 10: [], 12: [10], 13: [] }, scripts: { 10: { attempts: ["failure", "failure"] }, 13: { attempts: ["blocked"] } } },
      { issues: { 10: [], 11: [] }, scripts: { 10: { attempts: ["rate-limited"] } } },
      { issues: { 10: [], 12: [10] }, settings: { review: true }, scripts: { 12: { restack: ["conflict"], attempts: ["crash"] } } },
    ];
    for (const plan of plans) {
      for (const shown of [...wordsOf(plan).values()].flat()) expect(shown).not.toMatch(IDENTIFIER);
    }
  });
});

describe("the dashboard's header", () => {
  it("counts the rows by group, and sums to the run's issues at every event", () => {
    const { models } = modelsOf({ issues: { 10: [], 12: [10], 13: [] }, scripts: { 10: { attempts: ["failure", "failure"] } } });
    for (const model of models.filter((m) => m.rows.length > 0)) {
      const { merged, working, waiting, failed, blocked } = model.header.counts;
      expect(merged + working + waiting + failed + blocked).toBe(3);
    }
    const last = models.at(-1);
    expect(last?.header.counts).toEqual({ merged: 1, working: 0, waiting: 0, failed: 1, blocked: 1 });
    expect(last?.ended).toBe(true);
  });

  it("shows spend against the budget, counting what a running agent spent so far, and says when the budget holds the run", () => {
    const { states } = modelsOf({ issues: { 10: [], 11: [] } });
    const launched = states.find((s) => s.issues[10]?.status.kind === "working");
    if (launched === undefined) throw new Error("#10 never worked");
    const at = "2030-01-01T00:00:30.000Z";
    let state = apply(launched, { type: "BudgetSet", at, run: 1, issue: null });
    state = apply(state, { type: "Spending", at, issue: 10, attempt: 1, since: T0, turns: 4, costUsd: 0.25 });
    const spending = dashboardModel(state, at);
    expect(spending.header.spentUsd).toBeCloseTo(0.25);
    expect(spending.header.budgetUsd).toBe(1);
    expect(spending.header.held).toBeNull();
    expect(rowOf(spending, 10)).toMatchObject({ turns: 4, costUsd: 0.25, attempt: 1 });

    state = apply(state, { type: "Spending", at, issue: 10, attempt: 1, since: T0, turns: 9, costUsd: 1.5 });
    const over = dashboardModel(state, at);
    expect(over.header.spentUsd).toBeCloseTo(1.5);
    expect(over.header.held).toMatch(/^over budget: no agent starts until coordinator\.budget\.run is raised/);
  });

  it("shows the elapsed time ticking with `now` while the run goes on, and its whole length once it finished", () => {
    const { states } = modelsOf({ issues: { 10: [] } });
    const running = states.find((s) => s.issues[10]?.status.kind === "working");
    if (running === undefined) throw new Error("#10 never worked");
    expect(dashboardModel(running, "2030-01-01T00:01:00.000Z").header.elapsedMs).toBe(60_000);
    expect(dashboardModel(running, "2030-01-01T00:02:00.000Z").header.elapsedMs).toBe(120_000);
    const finished = states.at(-1);
    if (finished?.finished == null) throw new Error("the run did not finish");
    const length = Date.parse(finished.finished.at) - SIMULATION_START;
    expect(dashboardModel(finished, "2030-01-02T00:00:00.000Z").header.elapsedMs).toBe(length);
  });

  it("says why every launch is held by a usage limit", () => {
    const { states } = modelsOf({ issues: { 10: [], 11: [] }, scripts: { 10: { attempts: ["rate-limited"] } } });
    const parked = states.find((s) => s.parked !== null);
    if (parked?.parked == null) throw new Error("never parked");
    const model = dashboardModel(parked, parked.lastEventAt ?? T0);
    expect(model.header.held).toBe(`usage limit: no agent starts until ${parked.parked.until.slice(11, 16)} UTC`);
  });

  it("says when the run is paused, and so does an issue that would start", () => {
    const { states } = modelsOf({ issues: { 10: [], 11: [] }, settings: { maxParallel: 1 } });
    const waiting = states.find((s) => s.issues[11]?.status.kind === "ready" && s.issues[10]?.status.kind === "working");
    if (waiting === undefined) throw new Error("#11 never waited for a slot");
    expect(rowOf(dashboardModel(waiting, T0), 11).state).toBe("waiting for a slot");
    const paused = dashboardModel(apply(waiting, { type: "Paused", at: T0, issue: null }), T0);
    expect(paused.header.paused).toBe(true);
    expect(rowOf(paused, 11)).toMatchObject({ state: "paused: the run is paused", group: "waiting" });
    expect(rowOf(dashboardModel(apply(waiting, { type: "Paused", at: T0, issue: 11 }), T0), 11).state).toBe("paused by you");
  });
});

describe("what needs you", () => {
  it("lists a failed issue and marks its row, not the dependents it blocks", () => {
    const { models } = modelsOf({ issues: { 10: [], 12: [10] }, settings: { maxAttempts: 1 }, scripts: { 10: { attempts: ["crash"] } } });
    const last = models.at(-1);
    expect(last?.needsYou.map((n) => [n.kind, n.issue])).toEqual([["failed", 10]]);
    expect(last?.rows.map((r) => [r.issue, r.needsYou])).toEqual([[10, true], [12, false]]);
  });
});

describe("text from the forge and the workers in the model", () => {
  it("reaches the terminal without escape sequences: a hostile title and a blocked agent's reason", () => {
    const { states } = modelsOf({ issues: { 10: [] }, scripts: { 10: { attempts: ["blocked"] } } });
    const blocked = states.at(-1);
    const record = blocked?.issues[10];
    const attempt = record?.attempts[0];
    if (blocked === undefined || record === undefined || attempt === undefined || record.outcome === null) throw new Error("#10 was not blocked");
    const osc52 = "\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007";
    const hostile: CoordinatorState = {
      ...blocked,
      issues: {
        10: {
          ...record,
          title: `Fix login\u001b[2K\u001b[1Aapproved${osc52}`,
          attempts: [{ ...attempt, blockedReason: `needs a key\rall good${osc52}` }],
          outcome: { ...record.outcome, reason: `the worker is blocked: needs a key\u202Eevil${osc52}` },
        },
      },
    };
    const model = dashboardModel(hostile, T0);
    const texts = [...model.rows.flatMap((r) => [r.title, r.state]), ...model.needsYou.map((n) => n.reason)];
    expect(texts).toEqual(["Fix loginapproved", "blocked: needs a key all good", "the worker is blocked: needs a keyevil"]);
  });
});

describe("the estimate of the time left", () => {
  /** A chain 1 → 2 → 3 → 4, nothing stacked: each issue starts when the one before it merged. */
  const chain: SimulationPlan = { issues: { 1: [], 2: [1], 3: [2], 4: [3] }, settings: { stacking: false } };

  function afterMerges(count: number): { state: CoordinatorState; mergeTimes: number[]; events: readonly CoordinatorEvent[] } {
    const { states, events } = modelsOf(chain);
    const state = states.find((s) => Object.values(s.issues).filter((r) => r.merge?.mergedAt != null).length === count);
    if (state === undefined) throw new Error(`never ${String(count)} merged`);
    const mergeTimes = Object.values(state.issues).flatMap((r) => {
      const merged = r.merge?.mergedAt;
      const started = r.attempts[0]?.startedAt;
      return merged == null || started === undefined ? [] : [Date.parse(merged) - Date.parse(started)];
    });
    return { state, mergeTimes, events };
  }

  it("has none until an issue merged, and says why", () => {
    const { states } = modelsOf(chain);
    const beforeMerge = states.find((s) => s.issues[1]?.status.kind === "working");
    if (beforeMerge === undefined) throw new Error("#1 never worked");
    const early = dashboardModel(beforeMerge, T0).header;
    expect(early.remainingMs).toBeNull();
    expect(early.estimate).toMatch(/^no estimate until an issue merges/);
  });

  it("expects each issue not started to take the median time of those merged, summed along the longest chain", () => {
    const { state, mergeTimes } = afterMerges(1);
    const [d] = mergeTimes;
    if (d === undefined) throw new Error("no merge time");
    const header = dashboardModel(state, state.lastEventAt ?? T0).header;
    expect(header.remainingMs).toBe(3 * d);
    expect(header.estimate).toMatch(/^about .+ along the critical path #2 → #3 → #4: each unfinished issue is expected to take .+, the median time from first launch to merge of the 1 merged so far/);
  });

  it("counts the time an unfinished issue has run against it, never below zero", () => {
    const { state, mergeTimes, events } = afterMerges(2);
    const median = ((mergeTimes[0] ?? 0) + (mergeTimes[1] ?? 0)) / 2;
    const launch = events.find((e) => e.type === "Launched" && e.issue === 3);
    if (launch === undefined || state.issues[3]?.attempts.length !== 0) throw new Error("#3 was launched before #2 merged");
    // #3 launched a minute after; the estimate is read 10 seconds into its attempt.
    const launchedAt = Date.parse(state.lastEventAt ?? T0) + 60_000;
    const launched = apply(state, { ...launch, at: new Date(launchedAt).toISOString() });
    const now = launchedAt + 10_000;
    expect(dashboardModel(launched, new Date(now).toISOString()).header.remainingMs).toBe(Math.max(0, median - 10_000) + median);
    const muchLater = new Date(now + 100 * median).toISOString();
    expect(dashboardModel(launched, muchLater).header.remainingMs).toBe(median);
  });

  it("follows the longer branch of a diamond, and is zero once the run ended", () => {
    const { models, states } = modelsOf({ issues: { 1: [], 2: [1], 3: [1], 5: [3], 4: [2, 5] }, settings: { stacking: false, maxParallel: 1 } });
    const index = states.findIndex((s) => s.issues[1]?.merge?.mergedAt != null && s.issues[2]?.merge?.mergedAt == null);
    const first = models[index]?.header;
    expect(first?.estimate).toContain("#3 → #5 → #4");
    expect(models.at(-1)?.header).toMatchObject({ remainingMs: 0, estimate: "nothing left: every issue is merged, failed or blocked" });
  });
});

describe("the tree of issues", () => {
  it("lists each issue right below the dependency it hangs from (its first), one level deeper", () => {
    const { state } = simulate({ issues: { 1: [], 2: [], 3: [1], 4: [2], 5: [3, 4], 6: [] }, maxSteps: 0 });
    const model = dashboardModel(state, T0);
    expect(model.rows.map((r) => [r.issue, r.depth])).toEqual([
      [1, 0],
      [3, 1],
      [5, 2],
      [2, 0],
      [4, 1],
      [6, 0],
    ]);
  });

  it("handles a chain of 3000 issues without running out of stack", () => {
    const issues: Record<number, readonly number[]> = { 1: [] };
    for (let n = 2; n <= 3000; n += 1) issues[n] = [n - 1];
    const { state } = simulate({ issues, maxSteps: 0 });
    const model = dashboardModel(state, T0);
    expect(model.rows).toHaveLength(3000);
    expect(model.rows.at(-1)).toMatchObject({ issue: 3000, depth: 2999 });
  });
});

describe("a 50-issue run", () => {
  it("shows 50 rows at every event, in words, each after the issue it hangs from, until all merged", () => {
    const issues: Record<number, readonly number[]> = {};
    for (let n = 1; n <= 50; n += 1) issues[n] = n % 5 === 1 ? [] : n % 7 === 0 ? [n - 1, n - 3] : [n - 1];
    const { models } = modelsOf({ issues, settings: { maxParallel: 6, train: 3 } });
    for (const model of models.filter((m) => m.rows.length > 0)) {
      expect(model.rows).toHaveLength(50);
      const position = new Map(model.rows.map((r, i) => [r.issue, i]));
      for (const row of model.rows) {
        expect(row.state).not.toBe("");
        expect(row.state).not.toMatch(IDENTIFIER);
        const dependencies = issues[row.issue] ?? [];
        const parent = dependencies.length === 0 ? undefined : Math.min(...dependencies);
        if (parent !== undefined) expect(position.get(parent)).toBeLessThan(position.get(row.issue) ?? -1);
      }
    }
    const last = models.at(-1);
    expect(last?.header.counts.merged).toBe(50);
    expect(last?.ended).toBe(true);
    // Simulating the run takes seconds on a busy machine; the timeout is for a hang.
  }, 120_000);
});
