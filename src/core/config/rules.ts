/**
 * The rules of `.cspace.json` that do not need zod: the choices, patterns,
 * limits and defaults. ./schema.ts builds the zod schema from them and
 * ./plain.ts checks plainly valid configurations with the same values, so
 * a rule changed here changes both. Nothing here may import zod: short
 * commands load this module, and zod costs more to load than they take.
 */

export const agentPresets = ["claude", "codex", "gemini", "aider", "opencode", "command", "scripted"] as const;
export type AgentPreset = (typeof agentPresets)[number];

/**
 * How the `command` preset takes messages: `per-message` starts the command
 * again with each message on stdin; `stream` keeps it running and writes the
 * prompt, then each message, to its stdin as lines.
 */
export const commandInputs = ["per-message", "stream"] as const;
export type CommandInput = (typeof commandInputs)[number];

export const forgeTypes = ["local", "github"] as const;

/**
 * `container.network` as words: "open" (any address, Docker's default
 * bridge) or "none" (no network at all). The third form, `{"allow": […]}`,
 * is an object (see ../network/allowlist.ts).
 */
export const networkModes = ["open", "none"] as const;
export type NetworkMode = (typeof networkModes)[number];

/** `container.network`: a mode, or the host names a worker may reach through cspace's egress proxy. */
export type NetworkSetting = NetworkMode | { readonly allow: readonly string[] };

/** The `@name`s an allowlist may use for a set of host names (../network/allowlist.ts expands them). */
export const networkAliases = ["agent", "npm"] as const;

/** The forge used when a file names none, or names one without its `type`. */
export const defaultForgeType = "local";

export const patterns = {
  // Project names end up in container names and labels, which Docker limits.
  projectName: /^[a-z0-9][a-z0-9._-]{0,62}$/,
  // GitHub's own limits: owner up to 39 characters, no leading hyphen; "." and ".." are not repositories.
  githubRepo: /^[A-Za-z0-9][A-Za-z0-9-]{0,38}\/(?!\.\.?$)[A-Za-z0-9._-]{1,100}$/,
  // A size Docker accepts: a positive number and a unit.
  memory: /^(?!0+(?:\.0+)?[bkmg]$)[0-9]+(?:\.[0-9]+)?[bkmg]$/i,
  // The parts of git's check-ref-format rules a typo can break.
  branch: /^(?![-/.])(?!.*(?:\.\.|\/\/|@\{|\/\.|\.lock$|\/$|\.$))[^\s~^:?*[\\]+$/,
  // A duration above zero: a whole number and a unit (s, m or h).
  duration: /^(?!0+[smh]$)[0-9]{1,6}[smh]$/,
  envName: /^[A-Za-z_][A-Za-z0-9_]*$/,
  // An allowlist entry: a host name, "*." and a domain, an IPv4 or IPv6 address, or an @alias (checked by name).
  allowEntry:
    /^(?:(?:\*\.)?(?=[^/]{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}|@[a-z0-9-]+)$/i,
} as const;

/** Inclusive bounds of the integer keys. */
export const limits = {
  maxParallel: { min: 1, max: Number.MAX_SAFE_INTEGER },
  warmConcurrency: { min: 1, max: 32 },
  maxAttempts: { min: 1, max: 10 },
  train: { min: 1, max: 16 },
  // Below 64 a worker cannot run its lifecycle steps and an agent; above the kernel's pid_max it means nothing.
  pidsLimit: { min: 64, max: 4_194_304 },
} as const;

/** The value of each key that has one when no layer sets it. */
export const defaults = {
  issuesDir: ".cspace/issues",
  devcontainer: ".devcontainer/devcontainer.json",
  warmConcurrency: 4,
  lifecycleTimeout: "30m",
  // Far above what an agent, its tools and a test run use (a few hundred), far below what hurts the host.
  pidsLimit: 4096,
  verifyTimeout: "30m",
  // Open by default: an allowlist that a project has not written would break every agent that installs anything.
  network: "open",
  preset: "claude",
  commandInput: "per-message",
  maxParallel: 4,
  stacking: true,
  review: false,
  maxAttempts: 2,
  // Merge candidates verified at once: GitHub's merge queue builds five by default; four keep a 2-core laptop usable.
  train: 4,
  onUsageLimit: "wait",
  // Off: a comment on the parent issue is visible to everyone watching it, so a project asks for it.
  progressComments: false,
  // A quarter of an hour without a word is far longer than any tool call or test run an agent waits on.
  stallMinutes: 15,
} as const;

/** `coordinator.onUsageLimit`: wait for the agent's account to reset, or fail the issues its limit stops. */
export const usageLimitPolicies = ["wait", "fail"] as const;

export const validValues = {
  projectName: 'expected lowercase letters, digits, ".", "_" or "-", starting with a letter or digit, at most 63 characters',
  githubRepo: 'expected a GitHub repository as "owner/name"',
  maxParallel: "expected an integer ≥ 1",
  warmConcurrency: "expected an integer from 1 to 32",
  maxAttempts: "expected an integer from 1 to 10",
  train: "expected an integer from 1 to 16 (merge candidates verified at once; 1: one at a time)",
  onUsageLimit: 'expected "wait" (the run waits for the reset) or "fail" (the issues it stops fail)',
  stallMinutes: "expected a number of minutes above 0, like 15 or 0.5 (how long an agent may say nothing while it works)",
  dollars: "expected an amount of US dollars above 0, like 8 or 2.5",
  pidsLimit: "expected an integer from 64 to 4194304 (processes and threads in one worker)",
  duration: 'expected a duration above 0 like "90s", "30m" or "2h"',
  network: 'expected "open", "none" or {"allow": ["api.example.com", "*.example.org", "@agent", "@npm"]}',
  allowEntry: `expected a host name ("api.example.com"), a wildcard ("*.example.com"), an IP address, or one of ${networkAliases.map((a) => `"@${a}"`).join(", ")}`,
  allowList: 'expected a list of at least one host name, like ["@agent", "@npm"]',
} as const;

/** Whether an allowlist entry is valid: the pattern, and an @alias cspace knows. */
export function isAllowEntry(entry: string): boolean {
  if (!patterns.allowEntry.test(entry)) return false;
  return !entry.startsWith("@") || (networkAliases as readonly string[]).includes(entry.slice(1));
}

/** A valid project name made from a directory name: "My App" becomes "my-app". */
export function projectNameFrom(directoryName: string): string {
  const slug = directoryName
    .normalize("NFKD")
    // Accents become their base letters: "Über" is "uber", not "u-ber".
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .slice(0, 63)
    .replace(/[._-]+$/, "");
  return slug === "" ? "project" : slug;
}

const UNIT = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 } as const;

/** Bytes in a validated memory size ("512m", "1.5g"), as the Docker API wants them. */
export function memoryBytes(size: string): number {
  const unit = size.slice(-1).toLowerCase();
  const factor = unit === "b" || unit === "k" || unit === "m" || unit === "g" ? UNIT[unit] : 1;
  return Math.round(Number(size.slice(0, -1)) * factor);
}

const DURATION_UNIT = { s: 1_000, m: 60_000, h: 3_600_000 } as const;

/** A validated duration ("90s", "30m", "2h") in milliseconds (`container.lifecycleTimeout`, `verify.timeout`). */
export function durationMs(duration: string): number {
  const unit = duration.slice(-1);
  const factor = unit === "s" || unit === "m" || unit === "h" ? DURATION_UNIT[unit] : 1_000;
  return Number(duration.slice(0, -1)) * factor;
}

/** `container.lifecycleTimeout` in milliseconds. */
export const lifecycleTimeoutMs = durationMs;
