import Handlebars from "handlebars";
import { UserError } from "../errors.ts";
import { completeData } from "./catalogue.ts";
import type { TemplateDataFor, TemplateKind } from "./data.ts";
import { helpers } from "./helpers.ts";
import { findTemplateProblems, type TemplateProblem } from "./validate.ts";

/**
 * Compiles prompt templates with a handlebars instance of cspace's own: only
 * our helpers are registered on it (and `lookup`/`log` removed), so nothing
 * another module registers globally can change a prompt. Strict mode, no
 * prototype access, no HTML escaping (the output is markdown for an agent).
 */

export interface CompiledTemplate<K extends TemplateKind> {
  readonly kind: K;
  /** As shown in messages: relative to the project for an override, absolute for a built-in. */
  readonly file: string;
  render(data: TemplateDataFor<K>): string;
}

const instance = createInstance();

const COMPILE_OPTIONS = {
  strict: true,
  noEscape: true,
  knownHelpersOnly: true,
  knownHelpers: Object.fromEntries(Object.keys(helpers).map((name) => [name, true])),
} satisfies CompileOptions;

const RUNTIME_OPTIONS = {
  allowProtoPropertiesByDefault: false,
  allowProtoMethodsByDefault: false,
  allowCallsToHelperMissing: false,
} satisfies Handlebars.RuntimeOptions;

/**
 * Parses and checks a template of `kind`: a parse error, an unknown variable
 * or helper, or a misused one is a UserError naming `file`, the line and what
 * is valid there. Checking happens here, once, so a bad override fails when
 * cspace starts rather than when an agent is launched hours later.
 */
export function compileTemplate<K extends TemplateKind>(kind: K, source: string, file: string): CompiledTemplate<K> {
  const program = parse(source, file);
  const problems = findTemplateProblems(kind, program);
  if (problems.length > 0) throw problemsError(kind, file, problems);
  // Compiled from the checked AST, so what runs is what was validated.
  const template = instance.compile<Record<string, unknown>>(program, COMPILE_OPTIONS);
  return {
    kind,
    file,
    render(data) {
      try {
        return template(completeData(kind, data), RUNTIME_OPTIONS);
      } catch (error) {
        // Left for strict mode: a field of an optional object that is null here (guard it with {{#if …}}).
        const line = lineOf(error);
        throw new UserError(`${file}${line === null ? "" : `:${String(line)}`}: the ${kind} template failed to render: ${messageOf(error)}`, {
          hint: "guard optional fields with {{#if …}}…{{/if}}",
          cause: error,
        });
      }
    },
  };
}

function parse(source: string, file: string): hbs.AST.Program {
  try {
    return instance.parse(source, { srcName: file });
  } catch (error) {
    const line = lineOf(error);
    // Handlebars' parse message starts with its own "Parse error on line N:"; ours names the file instead.
    const detail = messageOf(error).replace(/^Parse error on line \d+:\n?/, "").replace(/ - \d+:\d+$/, "");
    throw new UserError(`${file}${line === null ? "" : `:${String(line)}`}: the template does not parse: ${detail}`, {
      hint: "check that every {{ has its }} and every {{#block}} its {{/block}}",
      cause: error,
    });
  }
}

function problemsError(kind: TemplateKind, file: string, problems: readonly TemplateProblem[]): UserError {
  const lines = problems.map((problem) => `${file}:${String(problem.line)}:${String(problem.column)}: ${problem.message}`);
  return new UserError(lines.join("\n"), {
    hint: `fix the ${kind} template, or remove it to use cspace's built-in one (the README's "Prompt templates" lists every variable)`,
  });
}

function createInstance(): typeof Handlebars {
  const isolated = Handlebars.create();
  // Dynamic lookups would reach fields the validator never saw.
  isolated.unregisterHelper("lookup");
  isolated.unregisterHelper("log");
  for (const [name, spec] of Object.entries(helpers)) isolated.registerHelper(name, spec.fn);
  return isolated;
}

/** The line handlebars gives: a property on its own exceptions, only in the text for the parser's. */
function lineOf(error: unknown): number | null {
  if (typeof error !== "object" || error === null) return null;
  const lineNumber = (error as { lineNumber?: unknown }).lineNumber;
  if (typeof lineNumber === "number") return lineNumber;
  const match = /on line (\d+)/.exec(messageOf(error));
  return match === null ? null : Number(match[1]);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
