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

/**
 * `workers.placement`: where a new worker goes. `local-first` fills the hosts
 * in the order they are configured (the local engine first when it is listed
 * first); `spread` picks the host with the most free slots (../hosts/placement.ts).
 */
export const placementPolicies = ["local-first", "spread"] as const;
export type PlacementPolicy = (typeof placementPolicies)[number];

/** The one host of a configuration that names none: the local engine (DOCKER_HOST, else the default socket). */
export const DEFAULT_HOST_NAME = "local";

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
  // A host's name goes into labels (a Kubernetes label value must end with a letter or digit), volume names and messages:
  // an instance name's rule (../instances/names.ts), ending with a letter or digit.
  hostName: /^[a-z0-9](?:[a-z0-9._-]{0,61}[a-z0-9])?$/,
  // A Kubernetes namespace: a DNS label (RFC 1123).
  kubernetesNamespace: /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/,
  // A StorageClass name: a DNS subdomain (RFC 1123), at most 253.
  storageClass: /^(?=.{1,253}$)[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/,
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
  slots: { min: 1, max: Number.MAX_SAFE_INTEGER },
  lostAfterSeconds: { min: 5, max: 86_400 },
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
  placement: "local-first",
  lostAfterSeconds: 60,
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
  hostName: 'expected a host name of 1 to 63 characters: lowercase letters, digits, ".", "_" or "-", starting and ending with a letter or digit (like "build-1")',
  dockerUrl: 'expected the engine\'s address: "unix:///path/to/docker.sock", "tcp://host:port" or "ssh://user@host[:port]"',
  slots: "expected an integer ≥ 1 (how many workers the host runs at once)",
  placement: 'expected "local-first" (fill the hosts in the order listed) or "spread" (the host with the most free slots)',
  lostAfterSeconds: "expected an integer from 5 to 86400 (seconds a host may not answer before its workers count as lost)",
  hosts: 'expected a list of at least one host, like [{"name": "local"}, {"name": "big", "docker": "ssh://ci@build-1.internal", "slots": 12}]',
  kubernetesNamespace: 'expected a Kubernetes namespace: lowercase letters, digits and "-", at most 63, starting and ending with a letter or digit',
  storageClass: 'expected the name of a StorageClass that provides ReadWriteMany volumes (for the host\'s mirror), like "nfs-client"',
} as const;

/**
 * What is wrong with a host's `docker` address, or null when it is one cspace
 * can reach: unix:// with an absolute path, tcp:// with a host (and a port),
 * ssh:// with a host (a user and a port optional). No password in the URL
 * (it would sit in a file people commit), no path after the host.
 */
export function dockerUrlProblem(raw: string): string | null {
  if (raw.startsWith("unix://")) {
    const socket = raw.slice("unix://".length);
    if (!socket.startsWith("/") || socket.includes("\0")) return 'expected an absolute socket path after unix://, like "unix:///var/run/docker.sock"';
    return null;
  }
  const scheme = /^([a-z]+):\/\//.exec(raw)?.[1];
  if (scheme !== "tcp" && scheme !== "ssh") return validValues.dockerUrl;
  const url = URL.parse(raw);
  if (url === null || url.hostname === "") return `expected a host after ${scheme}://, like "${scheme === "tcp" ? "tcp://build-1.internal:2376" : "ssh://ci@build-1.internal"}"`;
  if (url.password !== "") return "expected no password in the URL: an ssh:// host signs in with ssh.identityFile or the SSH agent";
  if (scheme === "tcp" && url.username !== "") return 'expected no user in a tcp:// address, like "tcp://build-1.internal:2376"';
  if ((url.pathname !== "" && url.pathname !== "/") || url.search !== "" || url.hash !== "") {
    return `expected nothing after the host and port, like "${scheme === "tcp" ? "tcp://build-1.internal:2376" : "ssh://ci@build-1.internal:22"}"${scheme === "ssh" ? " (the engine's socket there is ssh.socket)" : ""}`;
  }
  return null;
}

/** A host as a file gives it, for the checks that span its keys or the whole list. */
export interface HostInput {
  readonly name?: unknown;
  readonly docker?: unknown;
  readonly ssh?: unknown;
  readonly kubernetes?: unknown;
}

/** A problem with one key of `workers.hosts`: its path under the list, and what is valid. */
export interface HostProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * The rules of `workers.hosts` that span keys: names unique, `docker` and
 * `kubernetes` not both, `ssh` only with an ssh:// engine, and at most one
 * host without either (there is one local engine).
 */
export function hostListProblems(hosts: readonly HostInput[]): HostProblem[] {
  const problems: HostProblem[] = [];
  const firstNamed = new Map<unknown, number>();
  let local: number | undefined;
  hosts.forEach((host, index) => {
    const earlier = firstNamed.get(host.name);
    if (earlier !== undefined) problems.push({ path: [index, "name"], message: `expected a name no other host has: hosts[${String(earlier)}] is named that too` });
    else firstNamed.set(host.name, index);
    if (host.docker !== undefined && host.kubernetes !== undefined) {
      problems.push({ path: [index, "kubernetes"], message: "expected either docker or kubernetes in one host, not both: a host is one engine or one cluster" });
    }
    if (host.ssh !== undefined && !(typeof host.docker === "string" && host.docker.startsWith("ssh://"))) {
      problems.push({ path: [index, "ssh"], message: 'expected ssh settings only with an ssh:// engine: add "docker": "ssh://user@host", or remove ssh' });
    }
    if (host.docker === undefined && host.kubernetes === undefined) {
      if (local !== undefined) {
        problems.push({ path: [index], message: `expected at most one host without docker or kubernetes (the local engine): hosts[${String(local)}] is already the local engine; give this one a "docker" address` });
      } else {
        local = index;
      }
    }
  });
  return problems;
}

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
