import { describe, expect, it } from "vitest";
import { z } from "zod";
import { resolveConfig } from "./layers.ts";
import { configKeyPaths, formatPath } from "./problems.ts";
import { configSchema, memoryBytes, projectNameFrom, projectNameSchema } from "./schema.ts";

describe("projectNameFrom", () => {
  it.each([
    ["My App", "my-app"],
    ["shop", "shop"],
    ["Über Projekt!", "uber-projekt"],
    ["--.hidden", "hidden"],
    ["a".repeat(80), "a".repeat(63)],
    ["!!!", "project"],
    ["repo.v2_", "repo.v2"],
  ])("makes %j into the valid name %j", (directory, name) => {
    expect(projectNameFrom(directory)).toBe(name);
    expect(projectNameSchema.safeParse(name).success).toBe(true);
  });
});

describe("memoryBytes", () => {
  it("converts Docker sizes", () => {
    expect(memoryBytes("512m")).toBe(512 * 1024 ** 2);
    expect(memoryBytes("4G")).toBe(4 * 1024 ** 3);
    expect(memoryBytes("1.5g")).toBe(1.5 * 1024 ** 3);
    expect(memoryBytes("100b")).toBe(100);
  });
});

describe("the schema's messages", () => {
  const isLeaf = (path: readonly PropertyKey[]) =>
    !configKeyPaths().some((other) => other.length > path.length && formatPath(other).startsWith(`${formatPath(path)}.`));

  // A wrong value for every key must get cspace's own "expected …" wording, not zod's default.
  it.each(configKeyPaths().map((path) => [formatPath(path), path] as const))("explain what is valid for %s", (_name, path) => {
    for (const wrong of isLeaf(path) ? [{ nested: true }, [1], -1.5] : [[1], -1.5, "text"]) {
      const value: Record<string, unknown> = {};
      let cursor = value;
      for (const key of path.slice(0, -1)) {
        const next: Record<string, unknown> = {};
        cursor[String(key)] = next;
        cursor = next;
      }
      cursor[String(path[path.length - 1])] = wrong;
      if (path[0] === "forge" && path[1] !== "type" && ["repo", "apiUrl"].includes(String(path[1]))) cursor.type = "github";
      let message = "";
      try {
        resolveConfig({ files: [{ source: "test", value }], env: {}, defaultProjectName: "demo" });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/ — expected /);
      expect(message).not.toMatch(/Invalid input|Invalid option/);
    }
  });
});

describe("the JSON Schema for editors", () => {
  const schema = z.toJSONSchema(configSchema, { io: "input" }) as {
    properties: Record<string, { additionalProperties?: unknown; properties?: Record<string, unknown> }>;
    additionalProperties: unknown;
    required?: string[];
  };

  it("allows $schema, requires nothing, and refuses unknown keys", () => {
    expect(Object.keys(schema.properties)).toEqual(["$schema", "project", "forge", "container", "agent", "verify", "coordinator", "templates", "notify", "workers"]);
    expect(schema.required ?? []).toEqual([]);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.coordinator?.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties.coordinator?.properties ?? {})).toEqual(["maxParallel", "featureBranch", "stacking", "review", "maxAttempts", "train", "onUsageLimit", "budget", "prices", "progressComments", "stallMinutes"]);
  });
});

describe("coordinator.prices", () => {
  it("takes dollars per million input and output tokens by model or preset, and says what is wrong otherwise", () => {
    const parse = (prices: unknown) => configSchema.safeParse({ coordinator: { prices } });
    const ok = parse({ codex: { input: 1.25, output: 10 }, "gemini-2.5-pro": { input: 0, output: 10 } });
    expect(ok.success && ok.data.coordinator.prices).toEqual({ codex: { input: 1.25, output: 10 }, "gemini-2.5-pro": { input: 0, output: 10 } });
    const negative = parse({ codex: { input: -1, output: 10 } });
    expect(negative.error?.issues[0]?.message).toBe("expected US dollars per million tokens (a number, 0 or more)");
    expect(parse({ codex: { input: 1 } }).success).toBe(false);
    expect(parse({ codex: { input: 1, output: 2, cached: 0.1 } }).success).toBe(false);
  });
});
