import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "./layers.ts";
import { environmentBindings, type ResolveInput } from "./merge.ts";
import { parsePlainConfig, resolvePlainConfig } from "./plain.ts";
import { agentPresets } from "./rules.ts";
import { configSchema } from "./schema.ts";

// The plain check stands in for the schema on every short command, so it must
// return exactly what the schema returns whenever it returns anything. The
// generators mix valid values, values just outside each rule and values of
// the wrong kind, for every key.

const junk = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -3, max: 40 }),
  fc.double({ noNaN: false }),
  fc.string({ maxLength: 4 }),
  fc.array(fc.string({ maxLength: 3 }), { maxLength: 2 }),
  fc.dictionary(fc.constantFrom("a", "B"), fc.string({ maxLength: 2 }), { maxKeys: 2 }),
);

/** Mostly valid values (so that many whole configurations are valid), sometimes one just outside the rule, sometimes junk. */
const one = (valid: readonly unknown[], invalid: readonly unknown[] = []) =>
  fc.oneof(
    { weight: 40, arbitrary: fc.constantFrom(...valid) },
    { weight: invalid.length === 0 ? 0 : 1, arbitrary: fc.constantFrom(...invalid, null) },
    { weight: 1, arbitrary: junk },
  );
const text = one(["x", ".cspace/x.hbs", "npm test"], [""]);
const envName = fc.constantFrom("A", "B_1", "_X", "ANTHROPIC_API_KEY");
const badEnvName = fc.constantFrom("1X", "a b", "GH_TOKEN", "GITHUB_TOKEN", "");
const environment = fc.oneof(
  { weight: 40, arbitrary: fc.dictionary(envName, one(["1", "", "v"], [1]), { maxKeys: 3 }) },
  { weight: 1, arbitrary: fc.dictionary(badEnvName, fc.constant("v"), { minKeys: 1, maxKeys: 1 }) },
  { weight: 1, arbitrary: junk },
);
const passEnv = fc.oneof(
  { weight: 40, arbitrary: fc.array(envName, { maxLength: 3 }) },
  { weight: 1, arbitrary: fc.array(fc.oneof(envName, badEnvName, fc.constant(3)), { minLength: 1, maxLength: 3 }) },
  { weight: 1, arbitrary: junk },
);

/** A strict object with any of `shape`'s keys, sometimes an unknown one too, sometimes not an object at all. */
function object(shape: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const keys = fc.record(shape, { requiredKeys: [] });
  const withUnknown = fc.tuple(keys, fc.constantFrom("extra", "issuesDirs")).map(([value, key]) => ({ ...value, [key]: 1 }));
  return fc.oneof({ weight: 40, arbitrary: keys }, { weight: 1, arbitrary: withUnknown }, { weight: 1, arbitrary: junk });
}

const config = object({
  $schema: text,
  project: object({ name: one(["demo", "my-app.v2", "a".repeat(63)], ["My App", "a".repeat(64), "-x"]) }),
  forge: fc.oneof(
    { weight: 4, arbitrary: object({ type: one(["local"], ["gitlab"]), issuesDir: text, remote: text }) },
    { weight: 4, arbitrary: object({ type: one(["github"]), repo: one(["acme/app", "o/r.x"], ["acme", "-a/b", "a/.."]) }) },
    // Keys of the other forge, and the API URL that only zod checks.
    { weight: 1, arbitrary: object({ type: one(["local", "github"]), repo: one(["acme/app"]), remote: text, apiUrl: one(["https://github.example.com/api/v3"], ["ftp://x"]) }) },
  ),
  container: object({
    devcontainer: text,
    memory: one(["512m", "4G", "1.5g"], ["0m", "0.0k", "4", "12t"]),
    cpus: one([1, 1.5, 64], [0, -1, Number.POSITIVE_INFINITY]),
    pidsLimit: one([64, 4096, 4_194_304], [63, 4_194_305, 100.5, "4096"]),
    env: environment,
    warmConcurrency: one([1, 4, 32], [0, 33, 2.5]),
    lifecycleTimeout: one(["90s", "30m", "2h", "999999h"], ["0s", "1d", "1000000s"]),
    network: fc.oneof(
      { weight: 4, arbitrary: one(["open", "none"], ["closed", "Open", ""]) },
      {
        weight: 4,
        arbitrary: object({
          allow: fc.oneof(
            { weight: 8, arbitrary: fc.array(one(["@agent", "@npm", "api.anthropic.com", "*.githubusercontent.com", "10.0.0.1", "::1", "fd00::2"], ["@nope", "*", "a..b", "-x.com", "*.*.x", "http://x", ""]), { maxLength: 3 }) },
            { weight: 1, arbitrary: junk },
          ),
        }),
      },
    ),
  }),
  agent: object({
    preset: one(agentPresets, ["claud"]),
    command: text,
    model: text,
    env: environment,
    passEnv,
  }),
  verify: object({ all: text, e2e: text, timeout: one(["5s", "30m", "2h"], ["0s", "1d"]) }),
  coordinator: object({
    maxParallel: one([1, 4, 2 ** 53 - 1], [0, 1.5, 2 ** 53, "4"]),
    featureBranch: one(["main", "feature/login"], ["feature..x", ".x", "x.lock", "a b", "x/"]),
    stacking: one([true, false], ["yes"]),
    review: one([true, false], [0]),
    maxAttempts: one([1, 2, 10], [0, 11]),
    progressComments: one([true, false], ["yes"]),
  }),
  templates: object({ implementer: text, review: text, rebase: text, retry: text }),
  notify: object({ command: fc.oneof(text, fc.array(text, { maxLength: 3 })) }),
  workers: object({
    hosts: fc.oneof(
      {
        weight: 8,
        arbitrary: fc.array(
          object({
            name: one(["local", "big", "k8s", "a", "build-1.x"], ["Big", "-x", "x-", "", "a".repeat(64)]),
            docker: one(["unix:///var/run/docker.sock", "tcp://build-1:2376", "ssh://ci@build-1.internal", "ssh://h:2222"], ["unix://rel", "ssh://", "http://x", "ssh://u:pw@h", "tcp://h/x"]),
            ssh: object({ identityFile: text, knownHosts: text, socket: text }),
            kubernetes: object({ context: text, namespace: one(["agents", "a-1"], ["Agents", "-a", ""]), kubeconfig: text, sharedStorageClass: one(["nfs-client", "efs.sc"], ["NFS", "-x", ""]) }),
            slots: one([1, 12, 30], [0, 1.5, "3"]),
          }),
          { maxLength: 3 },
        ),
      },
      { weight: 1, arbitrary: junk },
    ),
    placement: one(["local-first", "spread"], ["local", "Spread"]),
  }),
});

describe("parsePlainConfig", () => {
  it("returns exactly what the schema returns, key order included, whenever it returns anything", () => {
    fc.assert(
      fc.property(config, (input) => {
        const plain = parsePlainConfig(input);
        if (plain === undefined) return;
        const parsed = configSchema.safeParse(input);
        expect(parsed.success).toBe(true);
        expect(plain).toStrictEqual(parsed.data);
        expect(JSON.stringify(plain)).toBe(JSON.stringify(parsed.data));
      }),
      { numRuns: 3000 },
    );
  });

  it("accepts everything the schema accepts, except an API URL, which only zod checks", () => {
    fc.assert(
      fc.property(config, (input) => {
        const parsed = configSchema.safeParse(input);
        const apiUrl = JSON.stringify(input).includes('"apiUrl"');
        if (parsed.success && !apiUrl) expect(parsePlainConfig(input)).toStrictEqual(parsed.data);
      }),
      { numRuns: 3000 },
    );
  });

  it("gives up on undefined values, __proto__ keys and API URLs, leaving them to the schema", () => {
    expect(parsePlainConfig({})).toStrictEqual(configSchema.parse({}));
    expect(parsePlainConfig({ coordinator: { featureBranch: undefined } })).toBeUndefined();
    expect(parsePlainConfig(JSON.parse('{"container": {"env": {"__proto__": "x"}}}'))).toBeUndefined();
    expect(parsePlainConfig(JSON.parse('{"agent": {"__proto__": {}}}'))).toBeUndefined();
    expect(parsePlainConfig({ forge: { type: "github", repo: "a/b", apiUrl: "https://github.example.com/api/v3" } })).toBeUndefined();
    expect(parsePlainConfig({ agent: { preset: "command" } })).toBeUndefined();
  });
});

describe("resolvePlainConfig", () => {
  const variable = fc.constantFrom(...environmentBindings.map((binding) => binding.variable), "GITHUB_API_URL");
  const inputs: fc.Arbitrary<ResolveInput> = fc.record({
    files: fc.array(fc.oneof(config, junk).map((value) => ({ source: ".cspace.json", value })), { maxLength: 2 }),
    env: fc.dictionary(variable, fc.constantFrom("", " ", "3", "x", "claude", "acme/app", "https://github.example.com/api/v3", "feature/x")),
    overrides: fc.option(
      fc.record({ coordinator: fc.record({ featureBranch: fc.constantFrom("main", "a..b") }), forge: fc.record({ type: fc.constant("github" as const), repo: fc.constantFrom("acme/app", "acme") }) }, { requiredKeys: [] }),
      { nil: undefined },
    ),
    defaultProjectName: fc.constant("demo"),
  });

  it("agrees with resolveConfig over files, environment variables and flags", () => {
    fc.assert(
      fc.property(inputs, (input) => {
        const plain = resolvePlainConfig(input);
        if (plain === undefined) return;
        expect(plain).toStrictEqual(resolveConfig(input));
      }),
      { numRuns: 2000 },
    );
  });

  it("gives up when a layer has a problem of its own, so resolveConfig words it", () => {
    expect(resolvePlainConfig({ files: [{ source: ".cspace.json", value: [] }], env: {}, defaultProjectName: "demo" })).toBeUndefined();
    expect(resolvePlainConfig({ files: [], env: { CSPACE_MAX_PARALLEL: "many" }, defaultProjectName: "demo" })).toBeUndefined();
    expect(resolvePlainConfig({ files: [], env: { CSPACE_MAX_PARALLEL: "3" }, defaultProjectName: "demo" })?.coordinator.maxParallel).toBe(3);
  });
});
