/**
 * The steering grammar of the scripted model server (README.md here): lines
 * `#model <verb> …` in the latest user text message. Each `shell` or `say`
 * line is one step (one model response); `wait`, `fail`, `limit` and `usage`
 * modify the step that follows them. Pure: no I/O, no clock.
 */

export interface Usage {
  readonly input: number;
  readonly output: number;
}

/** How often a `fail` answers with its status: the first N requests for its step, or every one. */
export type Times = number | "always";

export type Fault =
  | { readonly kind: "status"; readonly status: number; readonly times: Times }
  /** A usage limit until `reset`: epoch seconds, or seconds after the first request that met it. */
  | { readonly kind: "limit"; readonly reset: { readonly at: number } | { readonly after: number } };

export type Action = { readonly kind: "shell"; readonly command: string } | { readonly kind: "say"; readonly text: string };

export interface Step {
  readonly action: Action;
  readonly waitSeconds: number;
  readonly faults: readonly Fault[];
  readonly usage: Usage;
}

export const DEFAULT_USAGE: Usage = { input: 1000, output: 50 };
/** What the model answers once the script has no step left (or when there is none): it ends the turn. */
export const DEFAULT_ANSWER = "Done.";

const LINE = /^\s*#model\s+(\w+)\b[ \t]*(.*)$/;

export class ScriptError extends Error {}

/** The script written in `text`; a line it cannot read is a ScriptError naming the line and the grammar. */
export function parseScript(text: string): Step[] {
  const steps: Step[] = [];
  let pending = { waitSeconds: 0, faults: [] as Fault[] };
  let usage = DEFAULT_USAGE;
  const push = (action: Action): void => {
    steps.push({ action, waitSeconds: pending.waitSeconds, faults: pending.faults, usage });
    pending = { waitSeconds: 0, faults: [] };
  };
  for (const raw of text.split(/\r?\n/)) {
    const match = LINE.exec(raw);
    if (match === null) continue;
    const verb = match[1] ?? "";
    const rest = (match[2] ?? "").trim();
    switch (verb) {
      case "shell":
        if (rest === "") throw lineError(raw, "`shell` needs a command");
        push({ kind: "shell", command: rest });
        break;
      case "say":
        push({ kind: "say", text: rest.replace(/\\n/g, "\n") });
        break;
      case "wait":
        pending.waitSeconds += seconds(rest, raw);
        break;
      case "fail":
        pending.faults.push(parseFail(rest, raw));
        break;
      case "limit":
        pending.faults.push({ kind: "limit", reset: parseReset(rest, raw) });
        break;
      case "usage":
        usage = parseUsage(rest, raw);
        break;
      default:
        throw lineError(raw, `unknown verb "${verb}"`);
    }
  }
  // Modifiers after the last action belong to the closing answer.
  if (pending.waitSeconds > 0 || pending.faults.length > 0) push({ kind: "say", text: DEFAULT_ANSWER });
  return steps;
}

/** The step answered at `index` (assistant turns since the script's message); past the end, the closing answer. */
export function stepAt(steps: readonly Step[], index: number): Step {
  return steps[index] ?? { action: { kind: "say", text: DEFAULT_ANSWER }, waitSeconds: 0, faults: [], usage: steps.at(-1)?.usage ?? DEFAULT_USAGE };
}

/** The steering lines of `text`, for the log. */
export function scriptLines(text: string): string[] {
  return text.split(/\r?\n/).filter((line) => LINE.test(line)).map((line) => line.trim());
}

function parseFail(rest: string, raw: string): Fault {
  const match = /^(\d{3})(?:\s+(once|always|(\d+)\s+times?))?$/.exec(rest);
  if (match === null) throw lineError(raw, "`fail` is `fail <status> [once|always|<n> times]`");
  const status = Number(match[1]);
  const times: Times = match[2] === "always" ? "always" : match[3] !== undefined ? Number(match[3]) : 1;
  return { kind: "status", status, times };
}

function parseReset(rest: string, raw: string): { at: number } | { after: number } {
  const relative = /^(?:in\s+|\+)?(\d+)\s*(s|m|h)?$/.exec(rest);
  if (relative !== null) {
    const unit = relative[2] === "h" ? 3600 : relative[2] === "m" ? 60 : 1;
    return { after: Number(relative[1]) * unit };
  }
  const at = /^at\s+(\S+)$/.exec(rest)?.[1];
  if (at !== undefined) {
    if (/^\d+$/.test(at)) return { at: Number(at) };
    const ms = Date.parse(at);
    if (!Number.isNaN(ms)) return { at: Math.floor(ms / 1000) };
  }
  throw lineError(raw, "`limit` is `limit <n>[s|m|h]` (after the first request that meets it) or `limit at <epoch seconds|ISO time>`");
}

function parseUsage(rest: string, raw: string): Usage {
  const match = /^(\d+)\s+(\d+)$/.exec(rest);
  if (match === null) throw lineError(raw, "`usage` is `usage <input tokens> <output tokens>`");
  return { input: Number(match[1]), output: Number(match[2]) };
}

function seconds(rest: string, raw: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*s?$/.exec(rest);
  if (match === null) throw lineError(raw, "`wait` is `wait <seconds>`");
  return Number(match[1]);
}

function lineError(raw: string, why: string): ScriptError {
  return new ScriptError(`model-server: cannot read the script line ${JSON.stringify(raw.trim())}: ${why} (see test/support/model-server/README.md)`);
}
