import type { ConfigOverrides } from "../core/config/schema.ts";
import { buildDependencyGraph } from "../core/graph/dependency-graph.ts";
import type { IssueSelection } from "../core/issues/selection.ts";
import { featureBranchFor, needsDefaultBranch, type FeatureBranchSources } from "../core/plan/feature-branch.ts";
import { planRound, type Plan } from "../core/plan/planner.ts";
import { runUnderWay } from "./coordinate/run-under-way.ts";
import { collectPlanIssues } from "./issues/collect.ts";
import { parentSelection } from "./issues/parent.ts";
import { openProject, type PortOverrides } from "./project.ts";

export interface PlanOptions extends IssueSelection {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly featureBranch?: string | undefined;
  /** `owner/name`: GitHub for this run, whatever the config says. */
  readonly repo?: string | undefined;
  /** `--parent 42`: the sub-issues of #42, and `numbers` beside them (services/issues/parent.ts). */
  readonly parent?: number | undefined;
  /** Replacements for real adapters (tests: test/fakes/forge.ts). */
  readonly ports?: PortOverrides | undefined;
}

export interface PlanResult {
  readonly plan: Plan;
  /** The forge's notices (files it skipped, …), for the user. */
  readonly warnings: readonly string[];
}

/** Read, plan, return: no side effects anywhere. */
export async function planIssues(options: PlanOptions): Promise<PlanResult> {
  const overrides: ConfigOverrides = {
    ...(options.featureBranch === undefined ? {} : { coordinator: { featureBranch: options.featureBranch } }),
    ...(options.repo === undefined ? {} : { forge: { type: "github", repo: options.repo } }),
  };
  const project = await openProject({
    cwd: options.cwd,
    env: options.env,
    overrides,
    // A layer's source names only keys it set: "forge" covers the type and repo --repo sets.
    overrideSources: { "coordinator.featureBranch": "flag --feature-branch", forge: "flag --repo" },
    ports: options.ports,
  });
  const forge = await project.ports.forge();
  const parent = options.parent === undefined ? null : await parentSelection(forge, options.parent, options.numbers);
  const selection = parent === null ? options : { ...options, numbers: parent.numbers };
  const found = await collectPlanIssues(forge, selection);
  const graph = buildDependencyGraph(found.issues, { selected: found.selected, repo: forge.repo });
  const sources: FeatureBranchSources = {
    flag: options.featureBranch,
    configured: project.config.coordinator.featureBranch,
    milestone: options.milestone,
  };
  // Asked only when nothing else names the branch: on GitHub it costs a request.
  const featureBranch = featureBranchFor(needsDefaultBranch(sources) ? { ...sources, defaultBranch: await forge.defaultBranch() } : sources);
  const run = await runUnderWay(project, featureBranch);
  const plan = planRound({
    graph,
    issues: found.issues,
    selected: found.selected,
    featureBranch,
    maxParallel: project.config.coordinator.maxParallel,
    // Outside a run nothing is launched; while one runs on this feature branch, what it launched, merged and holds.
    launched: run?.launched ?? new Set(),
    merged: run?.merged ?? new Set(),
    externalStates: new Map(),
    ...(run === null ? {} : { held: run.held }),
  });
  return { plan, warnings: [...(parent?.notices ?? []), ...found.notices] };
}
