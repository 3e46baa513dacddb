import { spawnSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../test/support/temp-dirs.ts";
import { UserError } from "../core/errors.ts";
import { loadConfig } from "./config.ts";


const tempDir = useTempDirs("config");

async function project(files: Record<string, string>): Promise<string> {
  const dir = await tempDir();
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  return dir;
}

describe("loadConfig", () => {
  it("uses the defaults, named after the directory, when there is no config file", async () => {
    const dir = path.join(await project({}), "My Project");
    await mkdir(dir);
    const loaded = await loadConfig({ cwd: dir, env: {} });
    expect(loaded.files).toEqual([]);
    expect(loaded.projectDir).toBe(dir);
    expect(loaded.config.project.name).toBe("my-project");
    expect(loaded.config.coordinator.maxParallel).toBe(4);
  });

  it("layers .cspace.json < .cspace.local.json < environment < flags", async () => {
    const dir = await project({
      ".cspace.json": `{
        // shared
        "coordinator": { "maxParallel": 2, "featureBranch": "from-file", "review": true },
        "agent": { "model": "file-model", "env": { "A": "1" } },
      }`,
      ".cspace.local.json": `{ "coordinator": { "maxParallel": 3 }, "agent": { "env": { "B": "2" } } }`,
      "src/.keep": "",
    });
    const loaded = await loadConfig({
      cwd: path.join(dir, "src"),
      env: { CSPACE_MAX_PARALLEL: "5", CSPACE_AGENT_MODEL: "env-model" },
      overrides: { coordinator: { featureBranch: "from-flag" } },
    });
    expect(loaded.projectDir).toBe(dir);
    expect(loaded.files).toEqual([path.join(dir, ".cspace.json"), path.join(dir, ".cspace.local.json")]);
    expect(loaded.config.coordinator).toMatchObject({ maxParallel: 5, featureBranch: "from-flag", review: true });
    expect(loaded.config.agent).toMatchObject({ model: "env-model", env: { A: "1", B: "2" } });
  });

  it("names files as reached from cwd and flags by their names in one error", async () => {
    const dir = await project({
      ".cspace.json": `{ "coordinator": { "maxParallel": "four" } }`,
      ".cspace.local.json": `{ "agent": { "preset": "claud" } }`,
      "a/b/.keep": "",
    });
    const error = await loadConfig({
      cwd: path.join(dir, "a", "b"),
      env: {},
      overrides: { coordinator: { featureBranch: "bad branch" } },
      overrideSources: { "coordinator.featureBranch": "flag --feature-branch" },
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message.split("\n").slice(1).map((line) => line.trim())).toEqual([
      '../../.cspace.local.json: agent.preset: got "claud" — expected one of "claude", "codex", "gemini", "aider", "opencode", "command", "scripted" (did you mean "claude"?)',
      '../../.cspace.json: coordinator.maxParallel: got "four" — expected an integer ≥ 1',
      'flag --feature-branch: coordinator.featureBranch: got "bad branch" — expected a valid git branch name, like "feature/login"',
    ]);
  });

  it("reports a syntax error with the file, line and column", async () => {
    const dir = await project({ ".cspace.json": `{\n  "project": { "name": "x" }\n  "forge": {}\n}` });
    await expect(loadConfig({ cwd: dir, env: {} })).rejects.toThrow(/^\.cspace\.json:3:3: syntax error/);
  });

  it("refuses a working directory that does not exist", async () => {
    const dir = path.join(await project({}), "gone");
    const error = await loadConfig({ cwd: dir, env: {} }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(`${dir} does not exist`);
  });

  it("takes the project from the top of the git work tree when no directory has .cspace.json", async () => {
    const dir = await project({ ".git/HEAD": "ref: refs/heads/main\n", "pkg/lib/.keep": "" });
    const loaded = await loadConfig({ cwd: path.join(dir, "pkg", "lib"), env: {} });
    expect(loaded.projectDir).toBe(dir);
    expect(loaded.config.project.name).toBe(path.basename(dir).toLowerCase());
  });

  // zod costs more to load than a short command's own work (issue 7 §4).
  it("resolves a plainly valid configuration without loading zod, and loads it to word a problem", async () => {
    const valid = await project({ ".cspace.json": `{ "project": { "name": "demo" }, "coordinator": { "maxParallel": 2 } }` });
    const invalid = await project({ ".cspace.json": `{ "coordinator": { "maxParallel": 0 } }` });
    // A fresh process: this one has loaded zod already.
    const script = `
      import { registerHooks } from "node:module";
      const loaded = [];
      registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
      const { loadConfig } = await import(${JSON.stringify(new URL("./config.ts", import.meta.url).href)});
      const outcome = await loadConfig({ cwd: process.argv[1], env: {} }).then(({ config }) => config.coordinator.maxParallel, (error) => error.message);
      console.log(JSON.stringify({ outcome, zod: loaded.some((url) => url.includes("/node_modules/zod/")) }));`;
    const run = (dir: string): unknown => {
      const child = spawnSync(process.execPath, ["--input-type=module", "-e", script, dir], { encoding: "utf8", cwd: path.dirname(fileURLToPath(import.meta.url)) });
      expect(child.stderr).toBe("");
      return JSON.parse(child.stdout);
    };
    expect(run(valid)).toEqual({ outcome: 2, zod: false });
    expect(run(invalid)).toEqual({ outcome: "invalid configuration: .cspace.json: coordinator.maxParallel: got 0 — expected an integer ≥ 1", zod: true });
  });
});
