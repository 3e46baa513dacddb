import { FORGE_TOKEN_NAMES } from "../secrets/forge-token.ts";
import { configLayers, finishConfig, mergeLayers, type ResolveInput } from "./merge.ts";
import { agentPresets, commandInputs, defaults, DEFAULT_HOST_NAME, dockerUrlProblem, hostListProblems, isAllowEntry, limits, networkModes, patterns, placementPolicies } from "./rules.ts";
import type { Config, ParsedConfig } from "./schema.ts";
import { isRecord } from "./values.ts";

/**
 * The configuration resolved without zod, when every value in it is plainly
 * valid; undefined otherwise, and then ./layers.ts's resolveConfig decides
 * and words the problems. Most configurations are a few keys with ordinary
 * values, and loading zod and building the schema costs more than `cspace
 * list` or a small `cspace plan` does altogether (issue 7 §4).
 *
 * It gives up on anything it does not check as ./schema.ts would: a key it
 * does not know, a value of the wrong kind or out of range, `forge.apiUrl`
 * (zod's URL rules), `undefined` anywhere. So it can only be slower than the
 * schema, never more lenient; plain.test.ts checks that what it returns is
 * exactly what the schema returns, key order included, on generated input.
 */
export function resolvePlainConfig(input: ResolveInput): Config | undefined {
  const problems: string[] = [];
  const layers = configLayers(input, problems);
  if (problems.length > 0) return undefined;
  const parsed = parsePlainConfig(mergeLayers(layers));
  return parsed === undefined ? undefined : finishConfig(parsed, input.defaultProjectName);
}

/** What `configSchema.safeParse(merged).data` would be, or undefined when it is not plainly so. */
export function parsePlainConfig(merged: unknown): ParsedConfig | undefined {
  try {
    return configOf(merged);
  } catch (error) {
    if (error === UNSURE) return undefined;
    throw error;
  }
}

/** Thrown to give up, from however deep: the caller asks the schema instead. */
const UNSURE: unique symbol = Symbol("not plainly valid");

/** A parsed key left out of its object: optional and not given. */
const ABSENT: unique symbol = Symbol("absent");

type Check<T> = (value: unknown) => T;

function unsure(): never {
  // A symbol, not an Error: nothing failed, and no stack is needed.
  // eslint-disable-next-line @typescript-eslint/only-throw-error
  throw UNSURE;
}

const optional =
  <T>(check: Check<T>): Check<T | typeof ABSENT> =>
  (value) =>
    value === undefined ? ABSENT : check(value);

const withDefault =
  <T>(fallback: () => T, check: Check<T>): Check<T> =>
  (value) =>
    value === undefined ? fallback() : check(value);

/** Zod's prefault: a missing object is checked as `{}`, so its keys get their defaults. */
const orEmpty =
  <T>(check: Check<T>): Check<T> =>
  (value) =>
    check(value === undefined ? {} : value);

const text: Check<string> = (value) => (typeof value === "string" && value.length > 0 ? value : unsure());

const matching =
  (pattern: RegExp): Check<string> =>
  (value) =>
    typeof value === "string" && pattern.test(value) ? value : unsure();

const integer =
  ({ min, max }: { min: number; max: number }): Check<number> =>
  (value) =>
    typeof value === "number" && Number.isInteger(value) && value >= min && value <= max ? value : unsure();

const dollars: Check<number> = (value) => (typeof value === "number" && Number.isFinite(value) && value > 0 ? value : unsure());
const flag: Check<boolean> = (value) => (typeof value === "boolean" ? value : unsure());

/** An object's own keys, refused when one is unknown, undefined or `__proto__` (whose handling differs between copies). */
function entries(value: unknown, known: readonly string[]): Record<string, unknown> {
  if (!isRecord(value)) return unsure();
  for (const key of Object.keys(value)) {
    if (key === "__proto__" || !known.includes(key) || value[key] === undefined) unsure();
  }
  return value;
}

/** What `object` makes of a shape: keys that may be absent are optional. */
type Parsed<Shape extends Record<string, Check<unknown>>> = {
  [K in keyof Shape as MayBeAbsent<Shape[K]> extends true ? never : K]: ReturnType<Shape[K]>;
} & {
  [K in keyof Shape as MayBeAbsent<Shape[K]> extends true ? K : never]?: Exclude<ReturnType<Shape[K]>, typeof ABSENT>;
};
type MayBeAbsent<C extends Check<unknown>> = [Extract<ReturnType<C>, typeof ABSENT>] extends [never] ? false : true;

/** A strict object: every key of `shape`, in the shape's order (as zod builds its output), the absent optional ones left out. */
function object<Shape extends Record<string, Check<unknown>>>(value: unknown, shape: Shape): Parsed<Shape> {
  const input = entries(value, Object.keys(shape));
  const output: Record<string, unknown> = {};
  for (const [key, check] of Object.entries(shape)) {
    const parsed = check(input[key]);
    if (parsed !== ABSENT) output[key] = parsed;
  }
  return output as Parsed<Shape>;
}

/** `{"NAME": "value"}`, copied. */
const environment: Check<Record<string, string>> = (value) => {
  if (!isRecord(value)) return unsure();
  const copy: Record<string, string> = {};
  for (const [name, text] of Object.entries(value)) {
    if (name === "__proto__" || !patterns.envName.test(name) || typeof text !== "string" || FORGE_TOKEN_NAMES.includes(name)) unsure();
    copy[name] = text;
  }
  return copy;
};

/** Variable names, none of them the forge token's (schema.ts words why not). */
const passEnv: Check<string[]> = (value) => {
  if (!Array.isArray(value)) return unsure();
  const names: string[] = [];
  // Indexed, not every(): a hole is a value the schema sees (as undefined) and refuses.
  for (let index = 0; index < value.length; index++) {
    const name: unknown = value[index];
    if (typeof name !== "string" || !patterns.envName.test(name) || FORGE_TOKEN_NAMES.includes(name)) unsure();
    names.push(name);
  }
  return names;
};

/** "open", "none", or `{"allow": [entries]}` with at least one valid entry, copied. */
const network: Check<ParsedConfig["container"]["network"]> = (value) => {
  const mode = networkModes.find((known) => known === value);
  if (mode !== undefined) return mode;
  const { allow } = object(value, { allow: (list: unknown) => (Array.isArray(list) ? (list as unknown[]) : unsure()) });
  const hosts: string[] = [];
  // Indexed, not every(): a hole is a value the schema sees (as undefined) and refuses.
  for (let index = 0; index < allow.length; index++) {
    const host: unknown = allow[index];
    if (typeof host !== "string" || !isAllowEntry(host)) unsure();
    hosts.push(host);
  }
  return hosts.length === 0 ? unsure() : { allow: hosts };
};

const forge: Check<ParsedConfig["forge"]> = (value) => {
  const type = isRecord(value) ? value.type : unsure();
  if (type === undefined || type === "local") {
    return object(value, {
      type: (): "local" => "local",
      issuesDir: withDefault(() => defaults.issuesDir, text),
      remote: optional(text),
    });
  }
  if (type === "github") {
    return object(value, {
      type: (): "github" => "github",
      repo: matching(patterns.githubRepo),
      // An API URL is checked by zod's URL rules, which this does not repeat.
      apiUrl: (url: unknown): typeof ABSENT => (url === undefined ? ABSENT : unsure()),
    });
  }
  return unsure();
};

const agent: Check<ParsedConfig["agent"]> = (value) => {
  const parsed = object(value, {
    preset: withDefault(() => defaults.preset, (preset) => (agentPresets.find((known) => known === preset) ?? unsure())),
    command: optional(text),
    commandInput: withDefault(() => defaults.commandInput, (input) => (commandInputs.find((known) => known === input) ?? unsure())),
    model: optional(text),
    env: withDefault(() => ({}), environment),
    passEnv: withDefault(() => [], passEnv),
  });
  if (parsed.preset === "command" && parsed.command === undefined) unsure();
  return parsed;
};

function configOf(merged: unknown): ParsedConfig {
  return object(merged, {
    $schema: optional(text),
    project: orEmpty((project) => object(project, { name: optional(matching(patterns.projectName)) })),
    forge: orEmpty(forge),
    container: orEmpty((container) =>
      object(container, {
        devcontainer: withDefault(() => defaults.devcontainer, text),
        memory: optional(matching(patterns.memory)),
        cpus: optional((cpus) => (typeof cpus === "number" && Number.isFinite(cpus) && cpus > 0 ? cpus : unsure())),
        pidsLimit: withDefault(() => defaults.pidsLimit, integer(limits.pidsLimit)),
        env: withDefault(() => ({}), environment),
        warmConcurrency: withDefault(() => defaults.warmConcurrency, integer(limits.warmConcurrency)),
        lifecycleTimeout: withDefault(() => defaults.lifecycleTimeout, matching(patterns.duration)),
        network: withDefault(() => defaults.network, network),
      }),
    ),
    agent: orEmpty(agent),
    verify: orEmpty((verify) =>
      object(verify, { all: optional(text), e2e: optional(text), timeout: withDefault(() => defaults.verifyTimeout, matching(patterns.duration)) }),
    ),
    coordinator: orEmpty((coordinator) =>
      object(coordinator, {
        maxParallel: withDefault(() => defaults.maxParallel, integer(limits.maxParallel)),
        featureBranch: optional(matching(patterns.branch)),
        stacking: withDefault(() => defaults.stacking, flag),
        review: withDefault(() => defaults.review, flag),
        maxAttempts: withDefault(() => defaults.maxAttempts, integer(limits.maxAttempts)),
        train: withDefault(() => defaults.train, integer(limits.train)),
        onUsageLimit: withDefault(() => defaults.onUsageLimit, (value) => (value === "wait" || value === "fail" ? value : unsure())),
        budget: optional((budget) => object(budget, { run: optional(dollars), issue: optional(dollars) })),
        progressComments: withDefault(() => defaults.progressComments, flag),
        stallMinutes: withDefault(() => defaults.stallMinutes, dollars),
      }),
    ),
    templates: orEmpty((templates) =>
      object(templates, { implementer: optional(text), review: optional(text), rebase: optional(text), retry: optional(text), nudge: optional(text) }),
    ),
    notify: orEmpty((notify) => object(notify, { command: optional(notifyCommand) })),
    workers: orEmpty((workers) =>
      object(workers, {
        hosts: withDefault(() => [{ name: DEFAULT_HOST_NAME }], hosts),
        placement: withDefault(() => defaults.placement, (value) => placementPolicies.find((known) => known === value) ?? unsure()),
        lostAfterSeconds: withDefault(() => defaults.lostAfterSeconds, integer(limits.lostAfterSeconds)),
      }),
    ),
  });
}

type HostEntry = ParsedConfig["workers"]["hosts"][number];

/** `workers.hosts`: at least one host, each plainly valid, and none of the rules across them broken (rules.ts words those). */
const hosts: Check<HostEntry[]> = (value) => {
  if (!Array.isArray(value) || value.length === 0) return unsure();
  const parsed: HostEntry[] = [];
  // Indexed, not map(): a hole is a value the schema sees (as undefined) and refuses.
  for (let index = 0; index < value.length; index++) parsed.push(host(value[index]));
  return hostListProblems(parsed).length === 0 ? parsed : unsure();
};

const host: Check<HostEntry> = (value) =>
  object(value, {
    name: matching(patterns.hostName),
    docker: optional((url) => (typeof url === "string" && dockerUrlProblem(url) === null ? url : unsure())),
    ssh: optional((ssh) => object(ssh, { identityFile: optional(text), knownHosts: optional(text), socket: optional(text) })),
    kubernetes: optional((kubernetes) => object(kubernetes, { context: optional(text), namespace: matching(patterns.kubernetesNamespace), kubeconfig: optional(text), sharedStorageClass: optional(matching(patterns.storageClass)) })),
    slots: optional(integer(limits.slots)),
  });

/** `notify.command`: a command line, or the program and its arguments (at least the program). */
const notifyCommand: Check<string | string[]> = (value) => {
  if (typeof value === "string") return text(value);
  if (!Array.isArray(value) || value.length === 0) return unsure();
  const argv: string[] = [];
  // Indexed, not map(): a hole is a value the schema sees (as undefined) and refuses.
  for (let index = 0; index < value.length; index++) argv.push(text(value[index]));
  return argv;
};
