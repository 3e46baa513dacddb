import type { TemplateDependency } from "../../core/templates/data.ts";
import { UserError } from "../../core/errors.ts";
import type { PlannedIssue } from "../../core/plan/planner.ts";
import { planIssues } from "../plan.ts";
import { openProject, type PortOverrides } from "../project.ts";
import { renderTemplate } from "../templates/templates.ts";
import { up, type UpOptions, type UpResult } from "./up.ts";

export interface IssueStartOptions extends Omit<UpOptions, "instance" | "base" | "prompt" | "promptFile"> {
  readonly issue: number;
  readonly ports?: PortOverrides | undefined;
}

export interface IssueStartResult extends UpResult {
  readonly issue: number;
  /** The rendered implementer prompt the agent got. */
  readonly prompt: string;
}

/** The instance (and branch) an issue runs in. */
export function instanceForIssue(issue: number): string {
  return `issue-${String(issue)}`;
}

/**
 * `cspace issue <N>`: reads the issue from the forge, asks the plan for its
 * base branch (a dependency's branch when stacked, else the feature branch),
 * renders the implementer template for it, and starts it as `up
 * issue-<N>` would. An issue the plan says must wait is refused, naming what
 * it waits for.
 */
export async function startIssue(options: IssueStartOptions): Promise<IssueStartResult> {
  const { prompt, base, instance } = await issuePrompt(options);
  const started = await up({ ...options, instance, base, prompt });
  return { ...started, issue: options.issue, prompt };
}

/** The plan's base for the issue and its rendered prompt; refuses an issue that must wait or is closed. */
export async function issuePrompt(options: { cwd: string; env: NodeJS.ProcessEnv; issue: number; ports?: PortOverrides | undefined }): Promise<{ prompt: string; base: string; instance: string }> {
  if (!Number.isInteger(options.issue) || options.issue <= 0) throw new UserError(`"${String(options.issue)}" is not an issue number`, { hint: "cspace issue 12" });
  const project = await openProject(options);
  const forge = await project.ports.forge();
  const { plan } = await planIssues({ cwd: options.cwd, env: options.env, numbers: [options.issue], ports: options.ports });
  const row = plan.issues.find((planned) => planned.number === options.issue);
  if (row === undefined) throw new UserError(`issue #${String(options.issue)} is not in the plan`, { hint: `cspace plan ${String(options.issue)} shows why` });
  const base = baseOrRefusal(row);
  const issue = await forge.getIssue(options.issue);
  const instance = instanceForIssue(options.issue);
  const dependencies = await Promise.all(
    row.dependencies.map(async (dep): Promise<TemplateDependency> => {
      if (dep.repo !== null) return { number: dep.number, title: dep.ref, state: dep.state, branch: null };
      const found = await forge.getIssue(dep.number);
      return { number: dep.number, title: found.title, state: dep.state, branch: instanceForIssue(dep.number) };
    }),
  );
  const prompt = await renderTemplate(
    "implementer",
    {
      issue: {
        number: issue.number,
        title: issue.title,
        body: issue.body,
        // The forge port carries no page address; GitHub's follows from the repository.
        url: forge.repo === null ? null : `https://github.com/${forge.repo}/issues/${String(issue.number)}`,
        labels: issue.labels,
      },
      branch: instance,
      baseBranch: base,
      featureBranch: plan.featureBranch,
      dependencies,
      verifyCommand: project.config.verify.all ?? null,
      e2eCommand: project.config.verify.e2e ?? null,
      repo: forge.repo,
      instance,
    },
    project,
  );
  return { prompt, base, instance };
}

function baseOrRefusal(row: PlannedIssue): string {
  const n = String(row.number);
  if (row.action === "launch" && row.base !== null) return row.base;
  if (row.action === "merged") throw new UserError(`issue #${n} is closed: there is nothing to start`);
  if (row.action === "running") throw new UserError(`issue #${n} is already running`, { hint: `cspace send issue-${n} "<message>" talks to its agent` });
  const waits = row.waitingOn.map((w) => (typeof w === "number" ? `#${String(w)}` : w === "slot" ? "a free slot (coordinator.maxParallel)" : w));
  throw new UserError(`issue #${n} must wait for ${waits.join(", ")}: not merged, and no branch to stack on`, {
    hint: `cspace plan ${n} shows its dependencies; start those first, or run it anyway on a base you choose: cspace up issue-${n} --base <branch> --prompt-file <file>`,
  });
}
