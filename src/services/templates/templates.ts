import { readProjectContext, readTemplateSource, type TemplateOrigin } from "../../adapters/templates/template-files.ts";
import type { Config } from "../../core/config/schema.ts";
import { UserError } from "../../core/errors.ts";
import { compileTemplate, type CompiledTemplate } from "../../core/templates/compile.ts";
import type { TemplateDataFor, TemplateKind } from "../../core/templates/data.ts";

/**
 * The prompts cspace hands agents: each kind's template found (config path,
 * then `.cspace/templates/`, then built-in), checked against its variables,
 * and rendered with the project's `.cspace/context.md`. The coordinator loads
 * all four when it starts, so a bad override stops it before any work;
 * `cspace issue` renders one.
 */

/** What of a project the templates need; services' `Project` has it. */
export interface TemplateProject {
  readonly projectDir: string;
  readonly config: { readonly templates: Config["templates"] };
}

export interface LoadedTemplate<K extends TemplateKind> extends CompiledTemplate<K> {
  readonly origin: TemplateOrigin;
  /** Absolute. */
  readonly path: string;
}

export type LoadedTemplates = { readonly [K in TemplateKind]: LoadedTemplate<K> };

export interface PromptTemplates {
  readonly templates: LoadedTemplates;
  /** `.cspace/context.md` as read at load time; null when absent. */
  readonly context: string | null;
  /** Renders with the project's context unless `data.context` is given (null leaves it out). */
  render<K extends TemplateKind>(kind: K, data: TemplateDataFor<K>): string;
}

export async function loadTemplate<K extends TemplateKind>(kind: K, project: TemplateProject): Promise<LoadedTemplate<K>> {
  const source = await readTemplateSource(project.projectDir, kind, project.config.templates[kind]);
  return { ...compileTemplate(kind, source.text, source.shown), origin: source.origin, path: source.file };
}

/**
 * All four templates and the project context. Every template is checked, and
 * the problems of all of them are reported together, so fixing overrides is
 * one round, not four.
 */
export async function loadTemplates(project: TemplateProject): Promise<PromptTemplates> {
  const [settled, context] = await Promise.all([
    Promise.allSettled([
      loadTemplate("implementer", project),
      loadTemplate("review", project),
      loadTemplate("rebase", project),
      loadTemplate("retry", project),
      loadTemplate("nudge", project),
    ] as const),
    readProjectContext(project.projectDir),
  ]);
  const [implementer, review, rebase, retry, nudge] = settled;
  if (implementer.status === "rejected" || review.status === "rejected" || rebase.status === "rejected" || retry.status === "rejected" || nudge.status === "rejected") {
    throw combined(settled.flatMap((result) => (result.status === "rejected" ? [result.reason as unknown] : [])));
  }
  const templates: LoadedTemplates = { implementer: implementer.value, review: review.value, rebase: rebase.value, retry: retry.value, nudge: nudge.value };
  return {
    templates,
    context,
    render: (kind, data) => templates[kind].render(withContext(data, context)),
  };
}

/** Loads one template and renders it: for a single prompt (`cspace issue`), not a run. */
export async function renderTemplate<K extends TemplateKind>(kind: K, data: TemplateDataFor<K>, project: TemplateProject): Promise<string> {
  const [template, context] = await Promise.all([
    loadTemplate(kind, project),
    data.context === undefined ? readProjectContext(project.projectDir) : Promise.resolve(null),
  ]);
  return template.render(withContext(data, context));
}

function withContext<K extends TemplateKind>(data: TemplateDataFor<K>, context: string | null): TemplateDataFor<K> {
  return data.context === undefined ? { ...data, context } : data;
}

/** One error for several bad templates; anything that is not a user's mistake is thrown as it is. */
function combined(failures: readonly unknown[]): unknown {
  const userErrors = failures.filter((failure): failure is UserError => failure instanceof UserError);
  if (userErrors.length < failures.length) return failures.find((failure) => !(failure instanceof UserError));
  if (userErrors.length === 1) return userErrors[0];
  return new UserError(userErrors.map((error) => error.message).join("\n"), { hint: userErrors[0]?.hint });
}
