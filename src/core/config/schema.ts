import * as z from "zod";
import { FORGE_TOKEN_NAMES } from "../secrets/forge-token.ts";
import { agentPresets, commandInputs, defaults, DEFAULT_HOST_NAME, dockerUrlProblem, hostListProblems, placementPolicies, usageLimitPolicies, forgeTypes, isAllowEntry, limits, networkModes, patterns, validValues } from "./rules.ts";

/**
 * The shape of `.cspace.json`. Every message given to a schema below is the
 * "what is valid" half of an error line (see ./problems.ts), so it reads as
 * "expected …". Objects are strict: a misspelt key is reported, never dropped.
 */

// The patterns, limits and defaults live in ./rules.ts, without zod: short
// commands resolve plainly valid configurations with them (./plain.ts) and
// load this module only when zod must decide and word a problem. plain.ts
// mirrors this schema's shape: a key added here and not there only makes it
// give up (slower, never wrong); plain.test.ts checks the two agree.
// Re-exported for the modules that import them from here.
export {
  agentPresets,
  DEFAULT_HOST_NAME,
  defaultForgeType,
  forgeTypes,
  lifecycleTimeoutMs,
  memoryBytes,
  networkAliases,
  projectNameFrom,
  validValues,
  placementPolicies,
  type AgentPreset,
  type NetworkSetting,
  type PlacementPolicy,
} from "./rules.ts";

const { projectName: PROJECT_NAME, githubRepo: GITHUB_REPO, memory: MEMORY, branch: BRANCH, duration: DURATION, envName: ENV_NAME } = patterns;

const text = (valid: string) => z.string({ error: valid }).min(1, { error: valid });
const path = (what: string) => text(`expected a path to ${what}, relative to the project directory`);
const integer = (valid: string, min: number, max = Number.MAX_SAFE_INTEGER) =>
  z.number({ error: valid }).int({ error: valid }).min(min, { error: valid }).max(max, { error: valid });
const dollars = () => z.number({ error: validValues.dollars }).positive({ error: validValues.dollars });
const perMillionTokens = () => z.number({ error: "expected US dollars per million tokens (a number, 0 or more)" }).min(0, { error: "expected US dollars per million tokens (a number, 0 or more)" });
const flag = () => z.boolean({ error: "expected true or false" });
const NOTIFY_COMMAND = "expected a command line (text, run by /bin/sh -c) or a list of the program and its arguments";
/** Variables cspace passes into a container (container.env, agent.env): never the forge token, refused before anything is made. */
const environment = () =>
  z
    .record(
      z.string().regex(ENV_NAME, { error: "expected a variable name: letters, digits and _, not starting with a digit" }),
      z.string({ error: 'expected text (environment values are strings: quote numbers, like "1")' }),
      { error: 'expected an object of variable names and values, like {"NAME": "value"}' },
    )
    .superRefine((env, context) => {
      for (const name of Object.keys(env)) {
        if (!FORGE_TOKEN_NAMES.includes(name)) continue;
        context.addIssue({
          code: "custom",
          path: [name],
          params: { secret: true },
          message: `${name} is a forge token variable, and the forge token never enters a container (cspace pushes and opens pull requests from the host); remove it, and give a tool that needs GitHub its own token under another name`,
        });
      }
    });

export const projectNameSchema = z.string({ error: validValues.projectName }).regex(PROJECT_NAME, { error: validValues.projectName });
export const githubRepoSchema = z.string({ error: validValues.githubRepo }).regex(GITHUB_REPO, { error: validValues.githubRepo });

const objectOf = (what: string) => ({ error: `expected an object (${what})` });

/** `container.network`: "open", "none", or the hosts the egress proxy lets workers reach (docs: README, Containers). */
const networkSchema = z.union(
  [
    z.enum(networkModes, { error: validValues.network }),
    z.strictObject(
      {
        allow: z
          .array(z.string({ error: validValues.allowEntry }).refine(isAllowEntry, { error: validValues.allowEntry }), { error: validValues.allowList })
          .min(1, { error: validValues.allowList }),
      },
      { error: validValues.network },
    ),
  ],
  { error: validValues.network },
);

const localForge = z.strictObject(
  {
    type: z.literal("local").default("local"),
    issuesDir: path("the directory of issue files").default(defaults.issuesDir),
    remote: path("a bare git repository").optional(),
  },
  objectOf('like {"type": "local"}'),
);

const githubForge = z.strictObject(
  {
    type: z.literal("github"),
    repo: githubRepoSchema,
    apiUrl: z
      .url({ protocol: /^https?$/, error: 'expected an http(s) URL, like "https://github.example.com/api/v3"' })
      .optional(),
  },
  objectOf('like {"type": "github", "repo": "owner/name"}'),
);

const forgeSchema = z.discriminatedUnion("type", [localForge, githubForge], {
  error: (issue) =>
    typeof issue.input !== "object" || issue.input === null || Array.isArray(issue.input)
      ? 'expected an object, like {"type": "local"} or {"type": "github", "repo": "owner/name"}'
      : `expected ${forgeTypes.map((type) => `"${type}"`).join(" or ")}`,
});

/**
 * `agent.passEnv`: host variables whose values the agent gets, by name (its
 * own API keys). Checked as one list, so a problem line quotes the list as
 * written. The forge token never passes (design.md §6): cspace pushes and
 * opens pull requests itself, from the host.
 */
function passEnvNames(names: unknown[], context: z.RefinementCtx): string[] {
  const valid = names.filter((name): name is string => typeof name === "string" && ENV_NAME.test(name));
  if (valid.length !== names.length) {
    const wrong = names.filter((name) => !valid.includes(name as string)).map((name) => JSON.stringify(name));
    context.addIssue({
      code: "custom",
      message: `expected variable names (letters, digits and _, not starting with a digit); not ${wrong.join(", ")}`,
    });
    return z.NEVER;
  }
  const tokens = valid.filter((name) => FORGE_TOKEN_NAMES.includes(name));
  if (tokens.length > 0) {
    context.addIssue({
      code: "custom",
      message:
        `expected credentials the agent itself needs, not the forge token: ${tokens.join(", ")} never enters a container ` +
        "(cspace pushes and opens pull requests from the host)",
    });
    return z.NEVER;
  }
  return valid;
}

const agentSchema = z
  .strictObject(
    {
      preset: z.enum(agentPresets, { error: `expected one of ${agentPresets.map((p) => `"${p}"`).join(", ")}` }).default(defaults.preset),
      command: text("expected a command line (text)").optional(),
      commandInput: z
        .enum(commandInputs, { error: `expected one of ${commandInputs.map((p) => `"${p}"`).join(", ")}` })
        .default(defaults.commandInput),
      model: text("expected a model name (text)").optional(),
      package: text('expected an npm install spec, like "@anthropic-ai/claude-code@2.1.332" or a tarball path').optional(),
      env: environment().default({}),
      passEnv: z
        .array(z.unknown(), { error: 'expected a list of host variable names, like ["ANTHROPIC_API_KEY"]' })
        .default([])
        .transform(passEnvNames),
    },
    objectOf('like {"preset": "claude"}'),
  )
  .superRefine((agent, context) => {
    if (agent.preset === "command" && agent.command === undefined) {
      context.addIssue({
        code: "custom",
        path: ["command"],
        message: 'expected the command line that starts the agent: it is required when agent.preset is "command"',
        // Whoever chose the preset is who must add the command.
        params: { sourcePath: ["agent", "preset"] },
      });
    }
  });

/** One entry of `workers.hosts`: where workers can run (docs/architecture.md, "Hosts and placement"). */
const hostSchema = z.strictObject(
  {
    name: z.string({ error: validValues.hostName }).regex(patterns.hostName, { error: validValues.hostName }),
    docker: z
      .string({ error: validValues.dockerUrl })
      .superRefine((url, context) => {
        const problem = dockerUrlProblem(url);
        if (problem !== null) context.addIssue({ code: "custom", message: problem });
      })
      .optional(),
    // Paths here are the user's own (~ allowed): the SSH adapter expands them, as ssh does.
    ssh: z
      .strictObject(
        {
          identityFile: text("expected the path of a private key, like \"~/.ssh/id_ed25519\"").optional(),
          knownHosts: text("expected the path of a known_hosts file, like \"~/.ssh/known_hosts\"").optional(),
          socket: text("expected the engine's socket path on that host, like \"/var/run/docker.sock\"").optional(),
        },
        objectOf('like {"identityFile": "~/.ssh/id_ed25519", "knownHosts": "~/.ssh/known_hosts"}'),
      )
      .optional(),
    kubernetes: z
      .strictObject(
        {
          context: text("expected the name of a context in the kubeconfig").optional(),
          namespace: z.string({ error: validValues.kubernetesNamespace }).regex(patterns.kubernetesNamespace, { error: validValues.kubernetesNamespace }),
          kubeconfig: text("expected the path of a kubeconfig file, like \"~/.kube/config\"").optional(),
          sharedStorageClass: z.string({ error: validValues.storageClass }).regex(patterns.storageClass, { error: validValues.storageClass }).optional(),
        },
        objectOf('like {"context": "dev", "namespace": "agents"}'),
      )
      .optional(),
    slots: integer(validValues.slots, limits.slots.min, limits.slots.max).optional(),
  },
  objectOf('like {"name": "big", "docker": "ssh://ci@build-1.internal", "slots": 12}'),
);

const workersSchema = z
  .strictObject(
    {
      hosts: z
        .array(hostSchema, { error: validValues.hosts })
        .min(1, { error: validValues.hosts })
        .superRefine((hosts, context) => {
          for (const problem of hostListProblems(hosts)) context.addIssue({ code: "custom", path: [...problem.path], message: problem.message });
        })
        .default(() => [{ name: DEFAULT_HOST_NAME }]),
      placement: z.enum(placementPolicies, { error: validValues.placement }).default(defaults.placement),
      lostAfterSeconds: integer(validValues.lostAfterSeconds, limits.lostAfterSeconds.min, limits.lostAfterSeconds.max).default(defaults.lostAfterSeconds),
    },
    objectOf('like {"hosts": [{"name": "local"}], "placement": "local-first"}'),
  )
  .prefault({});

export const configSchema = z.strictObject(
  {
    $schema: text("expected the path or URL of cspace's JSON Schema").optional(),
    project: z
      .strictObject({ name: projectNameSchema.optional() }, objectOf('like {"name": "my-project"}'))
      .prefault({}),
    forge: forgeSchema.prefault({}),
    container: z
      .strictObject(
        {
          devcontainer: path("a devcontainer.json").default(defaults.devcontainer),
          memory: z.string({ error: 'expected a size like "512m" or "4g"' }).regex(MEMORY, {
            error: 'expected a size like "512m" or "4g": a number above 0 and a unit b, k, m or g',
          }).optional(),
          cpus: z.number({ error: "expected a number of CPUs above 0, like 2 or 1.5" })
            .positive({ error: "expected a number of CPUs above 0, like 2 or 1.5" })
            .optional(),
          pidsLimit: integer(validValues.pidsLimit, limits.pidsLimit.min, limits.pidsLimit.max).default(defaults.pidsLimit),
          env: environment().default({}),
          warmConcurrency: integer(validValues.warmConcurrency, limits.warmConcurrency.min, limits.warmConcurrency.max).default(defaults.warmConcurrency),
          lifecycleTimeout: z
            .string({ error: validValues.duration })
            .regex(DURATION, { error: validValues.duration })
            .default(defaults.lifecycleTimeout),
          network: networkSchema.default(defaults.network),
        },
        objectOf('like {"memory": "4g"}'),
      )
      .prefault({}),
    agent: agentSchema.prefault({}),
    verify: z
      .strictObject(
        {
          all: text("expected a shell command line (text)").optional(),
          e2e: text("expected a shell command line (text)").optional(),
          timeout: z.string({ error: validValues.duration }).regex(DURATION, { error: validValues.duration }).default(defaults.verifyTimeout),
        },
        objectOf('like {"all": "npm test"}'),
      )
      .prefault({}),
    coordinator: z
      .strictObject(
        {
          maxParallel: integer(validValues.maxParallel, limits.maxParallel.min, limits.maxParallel.max).default(defaults.maxParallel),
          featureBranch: z.string({ error: "expected a branch name" })
            .regex(BRANCH, { error: 'expected a valid git branch name, like "feature/login"' })
            .optional(),
          stacking: flag().default(defaults.stacking),
          review: flag().default(defaults.review),
          maxAttempts: integer(validValues.maxAttempts, limits.maxAttempts.min, limits.maxAttempts.max).default(defaults.maxAttempts),
          train: integer(validValues.train, limits.train.min, limits.train.max).default(defaults.train),
          onUsageLimit: z.enum(usageLimitPolicies, { error: validValues.onUsageLimit }).default(defaults.onUsageLimit),
          budget: z
            .strictObject({ run: dollars().optional(), issue: dollars().optional() }, objectOf('like {"run": 40, "issue": 8}, in US dollars'))
            .optional(),
          // Dollars per million tokens, by model or preset: what an agent that reports tokens and no cost is taken to spend.
          prices: z
            .record(
              z.string().min(1, { error: "expected a model or preset name" }),
              z.strictObject({ input: perMillionTokens(), output: perMillionTokens() }, objectOf('like {"input": 1.25, "output": 10}, US dollars per million tokens')),
              { error: 'expected an object like {"codex": {"input": 1.25, "output": 10}}' },
            )
            .optional(),
          // One comment on the parent issue (coordinate --parent) mirroring the dashboard, edited in place as the run goes.
          progressComments: flag().default(defaults.progressComments),
          // Minutes an agent may say nothing while it works before it is nudged, then restarted, then needs you (stalls.ts).
          stallMinutes: z.number({ error: validValues.stallMinutes }).positive({ error: validValues.stallMinutes }).default(defaults.stallMinutes),
        },
        objectOf('like {"maxParallel": 4}'),
      )
      .prefault({}),
    templates: z
      .strictObject(
        {
          implementer: path("a handlebars template").optional(),
          review: path("a handlebars template").optional(),
          rebase: path("a handlebars template").optional(),
          retry: path("a handlebars template").optional(),
          nudge: path("a handlebars template").optional(),
        },
        objectOf('like {"implementer": ".cspace/implementer.hbs"}'),
      )
      .prefault({}),
    // What runs when a coordinated run needs a person or ends (core/notify): the event as JSON on its stdin.
    notify: z
      .strictObject(
        {
          command: z
            .union([text(NOTIFY_COMMAND), z.array(text(NOTIFY_COMMAND), { error: NOTIFY_COMMAND }).min(1, { error: NOTIFY_COMMAND })], { error: NOTIFY_COMMAND })
            .optional(),
        },
        objectOf('like {"command": "notify-send cspace"} or {"command": ["/usr/local/bin/page-me", "--cspace"]}'),
      )
      .prefault({}),
    // Where workers run: the local engine, remote Docker engines, Kubernetes (../hosts/).
    workers: workersSchema,
  },
  { error: "expected an object" },
);

/** What the schema returns: defaults applied, `$schema` kept, `project.name` optional. */
export type ParsedConfig = z.output<typeof configSchema>;

/** The validated configuration, defaults applied. */
export type Config = Omit<ParsedConfig, "$schema" | "project"> & { readonly project: { readonly name: string } };

type DeepPartial<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** A partial configuration in file form, as flags give it (the highest-precedence layer). */
export type ConfigOverrides = DeepPartial<Omit<z.input<typeof configSchema>, "$schema">>;
