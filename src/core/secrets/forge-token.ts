import path from "node:path";
import { UserError } from "../errors.ts";

/**
 * The forge token stays on the host (design.md §6): cspace pushes, restacks
 * and opens pull requests itself, so an agent never needs it, and an agent
 * holding it could push anywhere the user can. These are the rules that keep
 * config from handing it over, by name or by value.
 */

/** Variables gh, the GitHub CLI and cspace read a token from. */
export const FORGE_TOKEN_NAMES: readonly string[] = ["GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"];

/**
 * Values shorter than this are not searched for: a placeholder like
 * `GH_TOKEN=x` in a test shell would otherwise match most text. Real tokens
 * are 40 characters or more.
 */
export const MIN_SECRET_LENGTH = 8;

export interface ForgeSecrets {
  /** Variable names that hold a forge token. */
  readonly names: readonly string[];
  /** Token values known on this host; never shown. */
  readonly values: readonly string[];
  /** Host folders that hold gh's stored credentials. */
  readonly configDirs: readonly string[];
}

/**
 * The secrets to keep out, from the host's environment, plus values found
 * elsewhere (the token `gh auth token` printed, say).
 */
export function forgeSecretsFrom(env: Readonly<Record<string, string | undefined>>, extraValues: readonly string[] = []): ForgeSecrets {
  const fromEnv = FORGE_TOKEN_NAMES.map((name) => (Object.hasOwn(env, name) ? env[name] : undefined));
  const values = [...fromEnv, ...extraValues]
    .map((value) => value?.trim() ?? "")
    .filter((value) => value.length >= MIN_SECRET_LENGTH);
  return { names: FORGE_TOKEN_NAMES, values: [...new Set(values)], configDirs: ghConfigDirs(env) };
}

/** Where gh keeps hosts.yml (the token, unless the system keyring has it): GH_CONFIG_DIR, else the XDG config folder. */
export function ghConfigDirs(env: Readonly<Record<string, string | undefined>>): string[] {
  const get = (name: string): string | undefined => {
    const value = Object.hasOwn(env, name) ? env[name]?.trim() : undefined;
    return value === undefined || value === "" || !path.isAbsolute(value) ? undefined : value;
  };
  const explicit = get("GH_CONFIG_DIR");
  const xdg = get("XDG_CONFIG_HOME");
  const home = get("HOME");
  const dirs = [explicit, xdg === undefined ? undefined : path.join(xdg, "gh"), home === undefined ? undefined : path.join(home, ".config", "gh")];
  return [...new Set(dirs.filter((dir): dir is string => dir !== undefined).map((dir) => path.resolve(dir)))];
}

export function isTokenName(name: string, secrets: ForgeSecrets): boolean {
  return secrets.names.includes(name);
}

/** Whether the text holds a token value anywhere, even embedded in a longer string. */
export function holdsToken(text: string, secrets: ForgeSecrets): boolean {
  return secrets.values.some((value) => text.includes(value));
}

/** A host path that is, contains or lies inside gh's config folder; null when it is none of them. */
export function exposedConfigDir(hostPath: string, secrets: ForgeSecrets): string | null {
  const source = path.resolve(hostPath);
  const inside = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : `${parent}${path.sep}`);
  return secrets.configDirs.find((dir) => inside(source, dir) || inside(dir, source)) ?? null;
}

/** One way config would hand the token over. */
export interface SecretLeak {
  /** The file or config the key is in, as a user names it. */
  readonly where: string;
  /** The key path, like `containerEnv.T` or `runArgs[1]`. */
  readonly key: string;
  /** Why, never quoting the value. */
  readonly reason: string;
}

/** The variables of a `.cspace.json` map that cspace passes into the container (`container.env`, say). */
export function envMapLeaks(where: string, key: string, env: Readonly<Record<string, string>>, secrets: ForgeSecrets): SecretLeak[] {
  const leaks: SecretLeak[] = [];
  for (const [name, value] of Object.entries(env)) {
    const at = `${key}${keySegment(name)}`;
    if (isTokenName(name, secrets)) leaks.push({ where, key: at, reason: `sets ${name}, a forge token variable, in the container` });
    else if (holdsToken(value, secrets)) leaks.push({ where, key: at, reason: "its value holds the forge token" });
  }
  return leaks;
}

/** Every leak at once, as one UserError, so a user fixes them in one pass; nothing when there is none. */
export function refuseLeaks(leaks: readonly SecretLeak[]): void {
  if (leaks.length === 0) return;
  const lines = leaks.map((leak) => `${leak.where}: ${leak.key}: ${leak.reason}`);
  const message =
    lines.length === 1
      ? `the forge token would reach the container: ${lines[0] ?? ""}`
      : `the forge token would reach the container (${lines.length} problems):\n${lines.map((line) => `  ${line}`).join("\n")}`;
  throw new UserError(message, {
    hint:
      "cspace keeps forge credentials on the host (it pushes and opens pull requests itself); remove these keys. " +
      "A tool in the container that needs GitHub for something else should get its own token, under another name.",
  });
}

/** `.name` when the name reads as an identifier, else `["name"]`, so odd keys stay unambiguous and printable. */
export function keySegment(name: string | number): string {
  if (typeof name === "number") return `[${name}]`;
  return /^[A-Za-z_][A-Za-z0-9_-]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}
