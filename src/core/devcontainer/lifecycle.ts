import { invalid, isRecord } from "./problems.ts";
import type { LifecycleCommand, LifecycleStep } from "./spec.ts";

const VALID = 'expected a command line, a list of arguments, or an object of named commands, like {"deps": "npm install"}';

/**
 * A lifecycle command in any of its three forms. Empty forms mean "nothing to
 * run" (null), so a template's `"postCreateCommand": ""` is harmless.
 */
export function parseLifecycle(file: string, key: string, value: unknown): LifecycleStep | null {
  if (value === undefined || value === null) return null;
  if (isRecord(value)) {
    const parallel = Object.entries(value)
      .map(([name, item]) => command(file, `${key}.${name}`, name, item))
      .filter((c): c is LifecycleCommand => c !== null);
    return parallel.length === 0 ? null : { parallel };
  }
  const single = command(file, key, key, value);
  return single === null ? null : { parallel: [single] };
}

function command(file: string, key: string, name: string, value: unknown): LifecycleCommand | null {
  if (typeof value === "string") return value.trim() === "" ? null : { name, command: value };
  if (Array.isArray(value)) {
    if (!value.every((item): item is string => typeof item === "string")) throw invalid(file, key, value, "expected a list of text arguments");
    if (value.length === 0) return null;
    if (value[0] === "") throw invalid(file, key, value, "expected the program to run as the first argument");
    return { name, command: value };
  }
  if (value === null) return null;
  throw invalid(file, key, value, VALID);
}
