import { UserError } from "../errors.ts";
import { quoteForMessage } from "../instances/names.ts";

/** `<file>: <key>: got <value> — <what is valid>`, the shape of every devcontainer.json complaint. */
export function invalid(file: string, key: string, value: unknown, valid: string): UserError {
  return new UserError(`${file}: ${key}: ${shown(value)} — ${valid}`);
}

const MAX_SHOWN = 60;

export function shown(value: unknown): string {
  if (value === undefined) return "missing";
  if (typeof value === "string") return `got ${quoteForMessage(value)}`;
  // Values come from parsed JSON, so they always stringify.
  const json = JSON.stringify(value) as string | undefined ?? typeof value;
  const cut = json.length > MAX_SHOWN ? `${json.slice(0, MAX_SHOWN - 1)}…` : json;
  if (Array.isArray(value)) return `got a list ${cut}`;
  if (typeof value === "object" && value !== null) return `got an object ${cut}`;
  return `got ${cut}`;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An object of strings (containerEnv, build.args); `null` values are dropped when `allowNull`. */
export function stringRecord(file: string, key: string, value: unknown, allowNull = false): Record<string, string> {
  if (value === undefined) return {};
  if (!isRecord(value)) throw invalid(file, key, value, 'expected an object of names and text values, like {"NAME": "value"}');
  const entries: [string, string][] = [];
  for (const [name, item] of Object.entries(value)) {
    if (name === "" || name.includes("=") || name.includes("\0")) {
      throw invalid(file, `${key}[${JSON.stringify(name)}]`, name, 'expected a name without "=" or NUL, not empty');
    }
    if (item === null && allowNull) continue;
    if (typeof item !== "string") {
      throw invalid(file, `${key}.${name}`, item, 'expected text (quote numbers, like "1")');
    }
    entries.push([name, item]);
  }
  return Object.fromEntries(entries);
}

export function optionalString(file: string, key: string, value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== "string" || value.trim() === "") throw invalid(file, key, value, "expected non-empty text");
  return value;
}
