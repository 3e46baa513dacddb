import path from "node:path";
import { readLocalIssues } from "../adapters/forge/local/issue-files.ts";
import { defaultBranchOf } from "../adapters/git/repository.ts";
import type { Config } from "../core/config/schema.ts";
import { UserError } from "../core/errors.ts";
import type { Issue } from "../core/issues/issue.ts";
import { buildDependencyGraph } from "../core/graph/dependency-graph.ts";
import { featureBranchFor } from "../core/plan/feature-branch.ts";
import { planRound, type Plan } from "../core/plan/planner.ts";
import { loadConfig } from "./config.ts";

export interface PlanOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Issues to plan; empty means every open issue matching the filters. */
  readonly numbers: readonly number[];
  readonly label?: string | undefined;
  readonly milestone?: string | undefined;
  readonly featureBranch?: string | undefined;
}

export interface PlanResult {
  readonly plan: Plan;
  readonly warnings: readonly string[];
}

/** Read, plan, return: no side effects anywhere. */
export async function planIssues(options: PlanOptions): Promise<PlanResult> {
  const { config, projectDir } = await loadConfig({
    cwd: options.cwd,
    env: options.env,
    overrides: options.featureBranch === undefined ? {} : { coordinator: { featureBranch: options.featureBranch } },
    overrideSources: { "coordinator.featureBranch": "flag --feature-branch" },
  });
  const { issues, ignored } = await loadIssues(config, projectDir);
  const warnings = ignored.map((file) => `ignored ${file}: issue files are named <number>.md`);

  const selected = selectIssues(issues, options);
  const graph = buildDependencyGraph(issues, { selected, repo: repoOf(config) });
  const featureBranch = featureBranchFor({
    flag: options.featureBranch,
    configured: config.coordinator.featureBranch,
    milestone: options.milestone,
    defaultBranch: await defaultBranchOf(projectDir),
  });
  const plan = planRound({
    graph,
    issues,
    selected,
    featureBranch,
    maxParallel: config.coordinator.maxParallel,
    // A plan made outside a run starts from nothing launched: the coordinator
    // passes what its run has launched and merged.
    launched: new Set(),
    merged: new Set(),
    externalStates: new Map(),
  });
  return { plan, warnings };
}

async function loadIssues(config: Config, projectDir: string): Promise<{ issues: readonly Issue[]; ignored: readonly string[] }> {
  switch (config.forge.type) {
    case "local":
      return readLocalIssues(path.resolve(projectDir, config.forge.issuesDir), projectDir);
    case "github":
      throw new UserError(`reading issues from GitHub (${config.forge.repo}) is not available in this version of cspace`, {
        hint: 'Use the local forge for now: set "forge": {"type": "local"} in .cspace.json.',
      });
  }
}

function repoOf(config: Config): string | null {
  return config.forge.type === "github" ? config.forge.repo : null;
}

/** Explicit numbers are taken as given (unknown ones fail in the graph); filters narrow them. */
function selectIssues(issues: readonly Issue[], options: PlanOptions): number[] {
  const matches = (issue: Issue): boolean =>
    (options.label === undefined || issue.labels.includes(options.label)) &&
    (options.milestone === undefined || issue.milestone === options.milestone);
  if (options.numbers.length > 0) {
    const byNumber = new Map(issues.map((issue) => [issue.number, issue]));
    return [...new Set(options.numbers)]
      .filter((number) => {
        const issue = byNumber.get(number);
        return issue === undefined || matches(issue);
      })
      .sort((a, b) => a - b);
  }
  return issues.filter((issue) => issue.state === "open" && matches(issue)).map((issue) => issue.number);
}
