import type { LineFacts } from "../preset.ts";

/**
 * Small readers for the JSON lines agents print. Agents add fields from one
 * release to the next, so every reader takes what it knows and ignores the
 * rest; a field of the wrong type counts as absent rather than as an error.
 */

export type JsonObject = Readonly<Record<string, unknown>>;

/** The line as a JSON object, or null when it is not one (a warning, a blank line). */
export function jsonObject(line: string): JsonObject | null {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) return null;
  try {
    const value: unknown = JSON.parse(trimmed);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export function stringAt(object: JsonObject | undefined, key: string): string | undefined {
  const value = object?.[key];
  return typeof value === "string" ? value : undefined;
}

export function numberAt(object: JsonObject | undefined, key: string): number | undefined {
  const value = object?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

export function objectAt(object: JsonObject | undefined, key: string): JsonObject | undefined {
  const value = object?.[key];
  return isObject(value) ? value : undefined;
}

export function arrayAt(object: JsonObject | undefined, key: string): readonly unknown[] {
  const value = object?.[key];
  return Array.isArray(value) ? value : [];
}

/** A line that says nothing to cspace. */
export const NOTHING: LineFacts = { events: [] };

/** A line shown as it is: plain-text agents, and the odd non-JSON line of a JSON agent. */
export function plainText(line: string): LineFacts {
  return line.trim() === "" ? NOTHING : { events: [{ type: "text", text: line }] };
}

/** `--model <name>` when a model is configured, else nothing (the CLI's own default). */
export function modelFlag(model: string | null, flag = "--model"): string[] {
  return model === null ? [] : [flag, model];
}
