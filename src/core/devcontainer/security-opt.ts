import { quoteForMessage } from "../instances/names.ts";
import { invalid } from "./problems.ts";

/**
 * Of Docker's `--security-opt` settings cspace applies one: no-new-privileges,
 * which every worker has unless its devcontainer turns it off (a
 * postCreateCommand that needs sudo). Seccomp, AppArmor and SELinux options
 * would only loosen the worker's confinement, so they are never applied.
 */

/** `no-new-privileges`, `=true`/`:true` → true; `=false`/`:false` → false; anything else → null. */
export function noNewPrivilegesSetting(option: string): boolean | null {
  const match = /^no-new-privileges(?:[=:](true|false))?$/.exec(option.trim());
  if (match === null) return null;
  return match[1] !== "false";
}

/**
 * The top-level `securityOpt` list: whether no-new-privileges stays on, and
 * one warning per entry cspace does not apply (it never loosens a worker
 * because a file asks; the key was ignored before, so a warning, not an error).
 */
export function parseSecurityOpt(file: string, value: unknown): { noNewPrivileges: boolean; warnings: string[] } {
  if (value === undefined) return { noNewPrivileges: true, warnings: [] };
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === "string")) {
    throw invalid(file, "securityOpt", value, 'expected a list of security options, like ["no-new-privileges=false"]');
  }
  let noNewPrivileges = true;
  const warnings: string[] = [];
  for (const option of value) {
    const setting = noNewPrivilegesSetting(option);
    if (setting === null) warnings.push(`securityOpt ${quoteForMessage(option)} is ignored by cspace (${UNAPPLIED})`);
    else if (!setting) noNewPrivileges = false;
  }
  return { noNewPrivileges, warnings };
}

/** Why a security option other than no-new-privileges is not applied. */
export const UNAPPLIED = "workers keep Docker's default seccomp and AppArmor confinement; only no-new-privileges=false is applied";
