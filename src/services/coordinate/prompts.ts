import type { WorldAction } from "../../core/coordinator/actions.ts";
import type { RunSettings } from "../../core/coordinator/vocabulary.ts";
import type { Issue } from "../../core/issues/issue.ts";
import type { CommonTemplateData } from "../../core/templates/data.ts";
import type { PromptTemplates } from "../templates/templates.ts";

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
}): (action: Extract<WorldAction, { type: "Launch" }>) => Promise<string> {
  return (action) => {
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
