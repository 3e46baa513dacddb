import { buildDependencyGraph } from "../graph/dependency-graph.ts";
import type { Issue } from "../issues/issue.ts";
import { decisionEvent, isDecision, type Action, type WorldAction } from "./actions.ts";
import { decide, nextWakeAt } from "./decide.ts";
import type { CoordinatorEvent } from "./events.ts";
import { operatorEvent, parseOperatorCommand } from "./operator.ts";
import { createWorld, finishAgent, respond, type IssueScript, type SimulatedWorld } from "./simulation.ts";
import { apply, initialState, type CoordinatorState } from "./state.ts";
import type { WorldSemantics } from "./world-contents.ts";
import type { RunSettings } from "./vocabulary.ts";

/**
 * Runs `decide` against the simulated world until the run finishes: the
 * loop a runtime runs, with every world action and every agent kept pending
 * until `choose` picks it to complete, so any order of outcomes can be tried.
 */
export interface SimulationPlan {
  /** Issue number → the issues it depends on. */
  readonly issues: Readonly<Record<number, readonly number[]>>;
  /** Default: every issue. */
  readonly selected?: readonly number[];
  /** Issues closed on the forge before the run. */
  readonly closed?: readonly number[];
  readonly settings?: Partial<RunSettings>;
  readonly scripts?: Readonly<Record<number, IssueScript>>;
  /** Which of `count` pending completions happens next. Default: the oldest. */
  readonly choose?: (count: number) => number;
  readonly maxSteps?: number;
  /** After each event is applied. */
  readonly onEvent?: (event: CoordinatorEvent, before: CoordinatorState, after: CoordinatorState) => void;
  /** After each call of `decide`, with what was in flight then. */
  readonly onDecide?: (actions: readonly Action[], state: CoordinatorState, inFlight: readonly Action[]) => void;
  /** What verify answers on a tree: issues that fail only together, a red feature branch (world-contents.ts). */
  readonly semantics?: WorldSemantics;
  /** A person at the operator's channel: before each `decide`, the events of the commands they send now (operator.ts). */
  readonly operator?: (state: CoordinatorState, at: string) => readonly CoordinatorEvent[];
}

export interface SimulationResult {
  readonly events: readonly CoordinatorEvent[];
  readonly state: CoordinatorState;
  readonly world: SimulatedWorld;
  readonly finished: boolean;
  readonly steps: number;
}

export const SIMULATION_START = Date.parse("2030-01-01T00:00:00.000Z");

export const defaultSimulationSettings: RunSettings = {
  featureBranch: "feature/sim",
  maxParallel: 2,
  maxAttempts: 2,
  review: false,
  stacking: true,
  verify: { all: "npm test", e2e: null },
  verifyLanding: true,
};

type Pending =
  | { readonly kind: "action"; readonly action: WorldAction }
  | { readonly kind: "agent"; readonly issue: number; readonly attempt: number; readonly why: string; readonly startedAt: string };

export function simulate(plan: SimulationPlan): SimulationResult {
  const settings: RunSettings = { ...defaultSimulationSettings, ...plan.settings };
  const choose = plan.choose ?? (() => 0);
  const maxSteps = plan.maxSteps ?? 10_000;
  let now = SIMULATION_START;
  let world = createWorld(settings.featureBranch, plan.scripts, plan.semantics);
  let state = initialState();
  const events: CoordinatorEvent[] = [];
  const pending: Pending[] = [];
  const record = (event: CoordinatorEvent): void => {
    const before = state;
    state = apply(state, event);
    events.push(event);
    plan.onEvent?.(event, before, state);
    if (event.type === "Launched" && state.issues[event.issue]?.attempts.length === event.attempt) {
      pending.push({ kind: "agent", issue: event.issue, attempt: event.attempt, why: event.why, startedAt: event.at });
    }
  };
  for (const event of startEvents(plan, settings, new Date(now).toISOString())) record(event);

  // `record` replaces `state` behind the compiler's back, so the loop asks afresh each time.
  const done = (): boolean => state.finished !== null;
  let steps = 0;
  for (; steps < maxSteps && !done(); steps++) {
    const at = new Date(now).toISOString();
    // Decisions are recorded at once, as a runtime does; then decide again, until only world actions are asked for.
    for (;;) {
      for (const event of plan.operator?.(state, at) ?? []) record(event);
      const inFlight = pending.flatMap((p) => (p.kind === "action" ? [p.action] : []));
      const actions = decide(state, now, inFlight);
      plan.onDecide?.(actions, state, inFlight);
      const decisions = actions.filter(isDecision);
      for (const action of actions) if (!isDecision(action)) pending.push({ kind: "action", action });
      if (decisions.length === 0) break;
      for (const decision of decisions) record(decisionEvent(decision, at));
    }
    if (done()) break;
    if (pending.length === 0) {
      const wake = nextWakeAt(state);
      if (wake === null || wake <= now) break;
      now = wake;
      continue;
    }
    const index = Math.min(pending.length - 1, Math.max(0, choose(pending.length)));
    const [item] = pending.splice(index, 1);
    if (item === undefined) break;
    const merge = item.kind === "action" && item.action.type === "Merge" ? item.action : null;
    if (merge !== null && state.issues[merge.issue]?.merge === null) {
      // A merge is recorded as ready before the forge is asked, and stays in flight until it lands: other outcomes
      // arrive in between, as they do in a runtime.
      record({ type: "MergeReady", at, issue: merge.issue, pr: merge.pr, headSha: merge.headSha, stacked: merge.stacked });
      pending.push(item);
      now += 1_000;
      continue;
    }
    const response =
      item.kind === "action" ? respond(world, item.action, at) : finishAgent(world, item, at, new Date(now + 300_000).toISOString());
    world = response.world;
    for (const event of response.events) record(event);
    now += 1_000;
  }
  return { events, state, world, finished: state.finished !== null, steps };
}

function startEvents(plan: SimulationPlan, settings: RunSettings, at: string): CoordinatorEvent[] {
  const closed = new Set(plan.closed ?? []);
  const issues: Issue[] = Object.entries(plan.issues).map(([key, deps]) => {
    const n = Number(key);
    const lines = [`Work for issue ${key}.`, ...(deps.length > 0 ? [`blocked-by: ${deps.map((d) => `#${String(d)}`).join(", ")}`] : [])];
    return { number: n, title: `Issue ${key}`, state: closed.has(n) ? "closed" : "open", labels: [], milestone: null, body: lines.join("\n") };
  });
  const selected = [...(plan.selected ?? issues.map((issue) => issue.number))].sort((a, b) => a - b);
  const graph = buildDependencyGraph(issues, { selected, repo: null });
  return [
    {
      type: "RunStarted",
      at,
      runId: "sim",
      selected,
      graph: { nodes: [...graph.nodes.values()].map(({ number, dependencies, external }) => ({ number, dependencies, external })), order: graph.order },
      settings,
    },
    {
      type: "IssuesLoaded",
      at,
      issues: issues.map((issue) => ({ number: issue.number, title: issue.title, state: issue.state, url: null })),
      external: [],
    },
  ];
}

/**
 * A person who sends one command (`cspace send _coordinator "<text>"`) the
 * first time `when` holds, as a simulation's `operator`; `sent()` says
 * whether they did (a command the coordinator refuses records nothing).
 */
export function operatorOnce(text: string, when: (state: CoordinatorState) => boolean): {
  readonly operator: NonNullable<SimulationPlan["operator"]>;
  sent(): boolean;
} {
  let sent = false;
  return {
    sent: () => sent,
    operator: (state, at) => {
      if (sent || !when(state)) return [];
      sent = true;
      const command = parseOperatorCommand(text);
      if (!command.ok) return [];
      const recorded = operatorEvent(state, command.value, at);
      return recorded.ok ? [recorded.value] : [];
    },
  };
}
