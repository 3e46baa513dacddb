import { describe, expect, it } from "vitest";
import { UserError } from "../errors.ts";
import { resolveConfig, type ConfigLayer, type ResolveInput } from "./layers.ts";

const defaults = {
  project: { name: "demo" },
  forge: { type: "local", issuesDir: ".cspace/issues" },
  container: { devcontainer: ".devcontainer/devcontainer.json", pidsLimit: 4096, env: {}, warmConcurrency: 4, lifecycleTimeout: "30m", network: "open" },
  agent: { preset: "claude", commandInput: "per-message", env: {}, passEnv: [] },
  verify: { timeout: "30m" },
  coordinator: { maxParallel: 4, stacking: true, review: false, maxAttempts: 2, train: 4, onUsageLimit: "wait", progressComments: false, stallMinutes: 15 },
  templates: {},
  notify: {},
  workers: { hosts: [{ name: "local" }], placement: "local-first", lostAfterSeconds: 60 },
};

function resolve(input: Partial<ResolveInput> = {}) {
  return resolveConfig({ files: [], env: {}, defaultProjectName: "demo", ...input });
}

const file = (value: unknown): ConfigLayer => ({ source: ".cspace.json", value });
const local = (value: unknown): ConfigLayer => ({ source: ".cspace.local.json", value });

/** The lines of the UserError thrown, without the heading. */
function problems(input: Partial<ResolveInput>): string[] {
  try {
    resolve(input);
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    const message = (error as UserError).message;
    const lines = message.split("\n");
    return lines.length === 1 ? [message.replace(/^invalid configuration: /, "")] : lines.slice(1).map((line) => line.trim());
  }
  throw new Error("expected an invalid configuration");
}

describe("resolveConfig", () => {
  it("applies every default when nothing is configured", () => {
    expect(resolve()).toEqual(defaults);
    expect(resolve({ files: [file({ $schema: "./schema.json", project: {}, forge: {} })] })).toEqual(defaults);
  });

  it("reports a wrong type with the value given and what is valid", () => {
    expect(problems({ files: [file({ coordinator: { maxParallel: "four" } })] })).toEqual([
      '.cspace.json: coordinator.maxParallel: got "four" — expected an integer ≥ 1',
    ]);
    expect(problems({ files: [file({ coordinator: { stacking: "yes", maxAttempts: 11 } })] })).toEqual([
      '.cspace.json: coordinator.stacking: got "yes" — expected true or false',
      ".cspace.json: coordinator.maxAttempts: got 11 — expected an integer from 1 to 10",
    ]);
  });

  it("reports an unknown key with a close suggestion, a key from another section, or the valid keys", () => {
    expect(problems({ files: [file({ coordinator: { maxParalel: 2 }, projct: {}, maxAttempts: 3, agent: { colour: "red" } })] })).toEqual([
      '.cspace.json: agent.colour: unknown key — valid keys here: preset, command, commandInput, model, package, env, passEnv',
      '.cspace.json: coordinator.maxParalel: unknown key — did you mean "maxParallel"?',
      '.cspace.json: projct: unknown key — did you mean "project"?',
      '.cspace.json: maxAttempts: unknown key — did you mean "coordinator.maxAttempts"?',
    ]);
  });

  it("names the forge type when a key belongs to the other forge", () => {
    expect(problems({ files: [file({ forge: { type: "github", repo: "acme/shop", issuesDir: "issues" } })] })).toEqual([
      '.cspace.json: forge.issuesDir: unknown key — not used by a "github" forge; valid keys here: type, repo, apiUrl',
    ]);
  });

  it("lists the valid values of an enum and suggests the closest", () => {
    expect(problems({ files: [file({ agent: { preset: "claud" }, forge: { type: "bitbucket" } })] })).toEqual([
      '.cspace.json: forge.type: got "bitbucket" — expected "local" or "github"',
      '.cspace.json: agent.preset: got "claud" — expected one of "claude", "codex", "gemini", "aider", "opencode", "command", "scripted" (did you mean "claude"?)',
    ]);
    expect(problems({ files: [file({ forge: { type: "gihub", repo: "a/b" } })] })).toEqual([
      '.cspace.json: forge.type: got "gihub" — expected "local" or "github" (did you mean "github"?)',
    ]);
  });

  it("requires agent.command for the command preset, blaming whoever chose the preset", () => {
    expect(problems({ files: [file({ agent: { model: "m" } })], env: { CSPACE_AGENT: "command" } })).toEqual([
      'environment variable CSPACE_AGENT: agent.command: missing — expected the command line that starts the agent: it is required when agent.preset is "command"',
    ]);
    expect(resolve({ files: [file({ agent: { command: "run-agent" } })], env: { CSPACE_AGENT: "command" } }).agent).toMatchObject({
      preset: "command",
      command: "run-agent",
    });
  });

  it("passes agent credentials by name, refusing forge tokens and names that are not variables", () => {
    expect(resolve({ files: [file({ agent: { passEnv: ["ANTHROPIC_API_KEY", "OPENAI_API_KEY"] } })] }).agent.passEnv).toEqual([
      "ANTHROPIC_API_KEY",
      "OPENAI_API_KEY",
    ]);
    // Lists replace, like every non-object value: the local file's list is the list.
    expect(resolve({ files: [file({ agent: { passEnv: ["A"] } }), local({ agent: { passEnv: ["B"] } })] }).agent.passEnv).toEqual(["B"]);
    expect(problems({ files: [file({ agent: { passEnv: ["OPENAI_API_KEY", "GH_TOKEN"] } }), local({ agent: { preset: "codex" } })] })).toEqual([
      '.cspace.json: agent.passEnv: got a list ["OPENAI_API_KEY","GH_TOKEN"] — expected credentials the agent itself needs, not the forge token: GH_TOKEN never enters a container (cspace pushes and opens pull requests from the host)',
    ]);
    expect(problems({ files: [file({ agent: { passEnv: ["GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN", "A"] } })] })).toEqual([
      expect.stringMatching(/not the forge token: GITHUB_TOKEN, GH_ENTERPRISE_TOKEN, GITHUB_ENTERPRISE_TOKEN never enters a container/),
    ]);
    expect(problems({ files: [file({ agent: { passEnv: ["1BAD", "OK", "A B", 3] } })] })).toEqual([
      '.cspace.json: agent.passEnv: got a list ["1BAD","OK","A B",3] — expected variable names (letters, digits and _, not starting with a digit); not "1BAD", "A B", 3',
    ]);
    expect(problems({ files: [file({ agent: { passEnv: "ANTHROPIC_API_KEY" } })] })).toEqual([
      '.cspace.json: agent.passEnv: got "ANTHROPIC_API_KEY" — expected a list of host variable names, like ["ANTHROPIC_API_KEY"]',
    ]);
  });

  it("validates names, sizes, repositories, URLs, branches and environment keys", () => {
    const lines = problems({
      files: [
        file({
          project: { name: "My App" },
          forge: { type: "github", repo: "acme", apiUrl: "ftp://example.com" },
          container: { memory: "4", cpus: 0, env: { "1X": "a", N: 1 } },
          coordinator: { featureBranch: "feature..x" },
        }),
      ],
    });
    expect(lines).toEqual([
      '.cspace.json: project.name: got "My App" — expected lowercase letters, digits, ".", "_" or "-", starting with a letter or digit, at most 63 characters',
      '.cspace.json: forge.repo: got "acme" — expected a GitHub repository as "owner/name"',
      '.cspace.json: forge.apiUrl: got "ftp://example.com" — expected an http(s) URL, like "https://github.example.com/api/v3"',
      '.cspace.json: container.memory: got "4" — expected a size like "512m" or "4g": a number above 0 and a unit b, k, m or g',
      ".cspace.json: container.cpus: got 0 — expected a number of CPUs above 0, like 2 or 1.5",
      '.cspace.json: container.env["1X"]: got key "1X" — expected a variable name: letters, digits and _, not starting with a digit',
      '.cspace.json: container.env.N: got 1 — expected text (environment values are strings: quote numbers, like "1")',
      '.cspace.json: coordinator.featureBranch: got "feature..x" — expected a valid git branch name, like "feature/login"',
    ]);
  });

  it("reports a missing required key against the layer that set its parent", () => {
    expect(problems({ files: [file({}), local({ forge: { type: "github" } })] })).toEqual([
      '.cspace.local.json: forge.repo: missing — expected a GitHub repository as "owner/name"',
    ]);
  });

  it("shortens long values", () => {
    const [line] = problems({ files: [file({ project: { name: "x".repeat(200) } })] });
    expect(line).toMatch(/^\.cspace\.json: project\.name: got "x{58}… — expected lowercase/);
  });

  it("refuses a file whose top level is not an object", () => {
    expect(problems({ files: [file([])] })).toEqual([
      '.cspace.json: got a list [] — expected an object at the top level, like {"project": {"name": "my-project"}}',
    ]);
    expect(problems({ files: [local("text")] })[0]).toMatch(/^\.cspace\.local\.json: got "text" — expected an object/);
  });

  it("lists every problem of every layer in one error", () => {
    expect(
      problems({
        files: [file({ coordinator: { review: 1 } }), local({ agent: { preset: 2 } })],
        env: { CSPACE_MAX_PARALLEL: "many" },
        overrides: { coordinator: { featureBranch: "-x" } },
        overrideSources: { "coordinator.featureBranch": "--feature-branch" },
      }),
    ).toEqual([
      'environment variable CSPACE_MAX_PARALLEL: coordinator.maxParallel: got "many" — expected an integer ≥ 1',
      '.cspace.local.json: agent.preset: got 2 — expected one of "claude", "codex", "gemini", "aider", "opencode", "command", "scripted"',
      'flag --feature-branch: coordinator.featureBranch: got "-x" — expected a valid git branch name, like "feature/login"',
      ".cspace.json: coordinator.review: got 1 — expected true or false",
    ]);
  });
});

describe("layer precedence", () => {
  it("takes file < local file < environment < flags, key by key", () => {
    const config = resolve({
      files: [
        file({ coordinator: { maxParallel: 2, featureBranch: "from-file", maxAttempts: 3 }, agent: { model: "file" } }),
        local({ coordinator: { maxParallel: 3, featureBranch: "from-local" } }),
      ],
      env: { CSPACE_FEATURE_BRANCH: "from-env", CSPACE_AGENT_MODEL: "env-model" },
      overrides: { coordinator: { featureBranch: "from-flag" } },
    });
    expect(config.coordinator).toEqual({ maxParallel: 3, featureBranch: "from-flag", stacking: true, review: false, maxAttempts: 3, train: 4, onUsageLimit: "wait", progressComments: false, stallMinutes: 15 });
    expect(config.agent.model).toBe("env-model");
  });

  it("deep-merges objects and replaces scalars", () => {
    const config = resolve({
      files: [file({ container: { env: { A: "1", B: "2" }, memory: "4g" } }), local({ container: { env: { B: "3" } } })],
    });
    expect(config.container).toMatchObject({ env: { A: "1", B: "3" }, memory: "4g" });
  });

  it("blames the highest-precedence layer that set the bad key", () => {
    expect(problems({ files: [file({ coordinator: { maxParallel: 0 } }), local({ coordinator: { maxParallel: -1 } })] })).toEqual([
      ".cspace.local.json: coordinator.maxParallel: got -1 — expected an integer ≥ 1",
    ]);
    expect(problems({ files: [file({ coordinator: { maxParallel: 0 } })], env: { CSPACE_MAX_PARALLEL: "0" } })).toEqual([
      "environment variable CSPACE_MAX_PARALLEL: coordinator.maxParallel: got 0 — expected an integer ≥ 1",
    ]);
  });

  it("names an unmapped flag plainly", () => {
    expect(problems({ overrides: { agent: { preset: "nope" as "claude" } } })[0]).toMatch(/^flags: agent\.preset: got "nope"/);
  });
});

describe("environment variables", () => {
  it("converts numbers and maps every variable to its key", () => {
    const config = resolve({
      env: {
        CSPACE_MAX_PARALLEL: " 7 ",
        CSPACE_AGENT: "command",
        CSPACE_AGENT_COMMAND: "my-agent --go",
        CSPACE_AGENT_MODEL: "big",
        CSPACE_FEATURE_BRANCH: "feature/x",
      },
    });
    expect(config.coordinator.maxParallel).toBe(7);
    expect(config.coordinator.featureBranch).toBe("feature/x");
    expect(config.agent).toEqual({ preset: "command", command: "my-agent --go", commandInput: "per-message", model: "big", env: {}, passEnv: [] });
  });

  it("rejects a non-numeric value for a numeric key, naming the variable", () => {
    expect(problems({ env: { CSPACE_MAX_PARALLEL: "four" } })).toEqual([
      'environment variable CSPACE_MAX_PARALLEL: coordinator.maxParallel: got "four" — expected an integer ≥ 1',
    ]);
  });

  it("ignores empty variables", () => {
    expect(resolve({ env: { CSPACE_MAX_PARALLEL: "", CSPACE_AGENT: " " } })).toEqual(defaults);
  });

  it("switches to the GitHub forge with CSPACE_GITHUB_REPO, dropping local-only keys", () => {
    const config = resolve({
      files: [file({ forge: { type: "local", issuesDir: "issues", remote: "../x.git" } })],
      env: { CSPACE_GITHUB_REPO: "acme/shop" },
    });
    expect(config.forge).toEqual({ type: "github", repo: "acme/shop" });
  });

  it("reads GITHUB_API_URL only when the forge is GitHub", () => {
    const env = { GITHUB_API_URL: "https://ghe.example.com/api/v3" };
    expect(resolve({ env }).forge).toEqual({ type: "local", issuesDir: ".cspace/issues" });
    expect(resolve({ env, files: [file({ forge: { type: "github", repo: "acme/shop" } })] }).forge).toEqual({
      type: "github",
      repo: "acme/shop",
      apiUrl: "https://ghe.example.com/api/v3",
    });
    expect(resolve({ env: { ...env, CSPACE_GITHUB_REPO: "acme/shop" } }).forge).toMatchObject({ apiUrl: env.GITHUB_API_URL });
  });

  it("lets a forge without a type add to the one below", () => {
    const config = resolve({
      files: [file({ forge: { type: "github", repo: "acme/shop" } }), local({ forge: { apiUrl: "https://ghe.example.com/api/v3" } })],
    });
    expect(config.forge).toEqual({ type: "github", repo: "acme/shop", apiUrl: "https://ghe.example.com/api/v3" });
  });
});
