import path from "node:path";
import { fileNamesIn } from "../adapters/config/config-files.ts";
import { defaultBranchOf } from "../adapters/git/repository.ts";
import type { Config, ConfigOverrides } from "../core/config/schema.ts";
import type { Forge } from "../core/forge/port.ts";
import type { Issue } from "../core/issues/issue.ts";
import { issueNumberFromFileName } from "../core/issues/issue-file.ts";
import { buildDependencyGraph } from "../core/graph/dependency-graph.ts";
import { featureBranchFor } from "../core/plan/feature-branch.ts";
import { planRound, type Plan } from "../core/plan/planner.ts";
import { loadConfig } from "./config.ts";
import { openForge, type OpenForgeOptions } from "./forge.ts";
import { githubPlanIssues } from "./plan-issues.ts";

export interface PlanOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Issues to plan; empty means every open issue matching the filters. */
  readonly numbers: readonly number[];
  readonly label?: string | undefined;
  readonly milestone?: string | undefined;
  readonly featureBranch?: string | undefined;
  /** `owner/name`: GitHub for this run, whatever the config says. */
  readonly repo?: string | undefined;
  /** Builds the forge; replaceable in tests. */
  readonly openForge?: (options: OpenForgeOptions) => Promise<Forge>;
}

export interface PlanResult {
  readonly plan: Plan;
  readonly warnings: readonly string[];
}

/** What the plan is made from: every issue the graph may need, and which of them were asked for. */
export interface PlanIssues {
  readonly issues: readonly Issue[];
  readonly selected: readonly number[];
}

/** Read, plan, return: no side effects anywhere. */
export async function planIssues(options: PlanOptions): Promise<PlanResult> {
  const overrides: ConfigOverrides = {
    ...(options.featureBranch === undefined ? {} : { coordinator: { featureBranch: options.featureBranch } }),
    ...(options.repo === undefined ? {} : { forge: { type: "github", repo: options.repo } }),
  };
  const { config, projectDir } = await loadConfig({
    cwd: options.cwd,
    env: options.env,
    overrides,
    overrideSources: { "coordinator.featureBranch": "flag --feature-branch", "forge.repo": "flag --repo", "forge.type": "flag --repo" },
  });
  const forge = await (options.openForge ?? openForge)({ config, projectDir, env: options.env });

  let found: PlanIssues;
  let warnings: readonly string[] = [];
  switch (config.forge.type) {
    case "local": {
      // Every local issue is one directory listing away, so the graph gets them all.
      const issues = await forge.listIssues({ state: "all" });
      found = { issues, selected: selectIssues(issues, options) };
      warnings = await misnamedIssueFiles(path.resolve(projectDir, config.forge.issuesDir), projectDir);
      break;
    }
    case "github":
      found = await githubPlanIssues(forge, options);
      break;
  }

  const graph = buildDependencyGraph(found.issues, { selected: found.selected, repo: forge.repo });
  const featureBranch = featureBranchFor({
    flag: options.featureBranch,
    configured: config.coordinator.featureBranch,
    milestone: options.milestone,
    defaultBranch: await defaultBranch(config, options, forge, projectDir),
  });
  const plan = planRound({
    graph,
    issues: found.issues,
    selected: found.selected,
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

/**
 * The local forge: the project's own checkout decides. GitHub: the repository's
 * default branch, asked only when neither a feature branch nor a milestone names one.
 */
async function defaultBranch(config: Config, options: PlanOptions, forge: Forge, projectDir: string): Promise<string> {
  switch (config.forge.type) {
    case "local":
      return defaultBranchOf(projectDir);
    case "github": {
      const named = options.featureBranch !== undefined || config.coordinator.featureBranch !== undefined || options.milestone !== undefined;
      // featureBranchFor does not read the default branch when something else names the branch.
      return named ? "main" : forge.defaultBranch();
    }
  }
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

// `<N>.comments.md` holds the local forge's comments on issue N: not misnamed.
const COMMENTS_FILE = /^[1-9][0-9]{0,8}\.comments\.md$/;

/** Markdown files in the issues directory the forge skipped because of their names: worth a warning. */
async function misnamedIssueFiles(issuesDir: string, projectDir: string): Promise<string[]> {
  const shown = path.relative(projectDir, issuesDir) || ".";
  return (await fileNamesIn(issuesDir))
    .filter((name) => name.endsWith(".md") && issueNumberFromFileName(name) === null && !COMMENTS_FILE.test(name))
    .sort()
    .map((name) => `ignored ${path.join(shown, name)}: issue files are named <number>.md`);
}
