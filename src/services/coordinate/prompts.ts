import type { CommitSummary } from "../../core/branches/port.ts";
import type { WorldAction } from "../../core/coordinator/actions.ts";
import type { RunSettings } from "../../core/coordinator/vocabulary.ts";
import type { Issue } from "../../core/issues/issue.ts";
import type { CommonTemplateData, TemplateCommit } from "../../core/templates/data.ts";
import type { PromptTemplates } from "../templates/templates.ts";

/**
 * What is in the agent's checkout as it starts, found out by the launch (the
 * forge's heads, the host's store): the prompt says exactly this.
 */
export interface LaunchCheckout {
  /** The commit `issue-N` starts from; null when unknown. */
  readonly startSha: string | null;
  /** When stacked: the parent's commits over the feature branch, newest first. */
  readonly baseCommits: readonly CommitSummary[];
  /** `issue-N` held an earlier run's work: its commits as they are now, and whether they were replayed onto the base. */
  readonly earlierWork: { readonly commits: readonly CommitSummary[]; readonly restacked: boolean } | null;
}


const SHORT_SHA = 12;
const short = (commit: CommitSummary): TemplateCommit => ({ sha: commit.sha.slice(0, SHORT_SHA), title: commit.title });

/**
 * Renders a launch's prompt from the core's LaunchPrompt data: the template
 * of its kind, filled with the issue, its branch and base, its dependencies
 * and the verify commands.
 */
export function promptRenderer(options: {
  readonly templates: PromptTemplates;
  readonly issues: ReadonlyMap<number, Issue>;
  readonly settings: () => RunSettings | null;
  readonly repo: string | null;
}): (action: Extract<WorldAction, { type: "Launch" }>, checkout: LaunchCheckout) => Promise<string> {
  return (action, checkout) => {
    const issue = options.issues.get(action.issue);
    const settings = options.settings();
    const common: CommonTemplateData = {
      issue: { number: action.issue, title: issue?.title ?? `Issue ${String(action.issue)}`, body: issue?.body ?? "", labels: issue?.labels ?? [], url: null },
      branch: action.branch,
      baseBranch: action.base,
      featureBranch: settings?.featureBranch ?? action.base,
      dependencies: action.dependencies,
      verifyCommand: settings?.verify.all ?? null,
      e2eCommand: settings?.verify.e2e ?? null,
      repo: options.repo,
      instance: action.instance,
      baseSha: checkout.startSha?.slice(0, SHORT_SHA) ?? null,
      baseCommits: checkout.baseCommits.map(short),
      earlierWork: checkout.earlierWork === null ? null : { commits: checkout.earlierWork.commits.map(short), restacked: checkout.earlierWork.restacked },
    };
    const { prompt } = action;
    const render = options.templates.render.bind(options.templates);
    switch (prompt.kind) {
      case "implementer":
        return Promise.resolve(render("implementer", common));
      case "retry":
        return Promise.resolve(render("retry", { ...common, attempt: prompt.attempt, maxAttempts: prompt.maxAttempts, failure: prompt.failure }));
      case "rebase":
        return Promise.resolve(render("rebase", { ...common, onto: prompt.onto, from: prompt.from, paths: prompt.paths }));
      case "review":
        return Promise.resolve(render("review", { ...common, pullRequestUrl: prompt.pullRequestUrl }));
    }
  };
}

/**
 * Renders the message a silent agent is sent (core/coordinator/stalls.ts): the
 * `nudge` template, with the issue and its branch, the minutes of silence and
 * the agent's last event.
 */
export function nudgeRenderer(options: {
  readonly templates: PromptTemplates;
  readonly issues: ReadonlyMap<number, Issue>;
  readonly settings: () => RunSettings | null;
  readonly repo: string | null;
}): (issue: number, instance: string, minutesSilent: number, lastEvent: string | null) => string {
  return (number, instance, minutesSilent, lastEvent) => {
    const issue = options.issues.get(number);
    const settings = options.settings();
    const feature = settings?.featureBranch ?? "";
    return options.templates.render("nudge", {
      issue: { number, title: issue?.title ?? `Issue ${String(number)}`, body: issue?.body ?? "", labels: issue?.labels ?? [], url: null },
      branch: instance,
      baseBranch: feature,
      featureBranch: feature,
      dependencies: [],
      verifyCommand: settings?.verify.all ?? null,
      e2eCommand: settings?.verify.e2e ?? null,
      repo: options.repo,
      instance,
      minutesSilent,
      lastEvent,
    });
  };
}
