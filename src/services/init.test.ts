import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../test/support/temp-dirs.ts";
import { parseLocalIssue } from "../adapters/forge/local/issue-files.ts";
import { resolveConfig } from "../core/config/layers.ts";
import { UserError } from "../core/errors.ts";
import { parseDependencyReferences } from "../core/issues/references.ts";
import { loadConfig } from "./config.ts";
import { initProject, renderStartingConfig } from "./init.ts";


const emptyDir = useTempDirs("init");

describe("initProject", () => {
  it("writes a commented config that loads to exactly the defaults, and an example issue", async () => {
    const dir = await emptyDir();
    const result = await initProject({ cwd: dir });
    expect(result).toEqual({ directory: dir, created: [".cspace.json", ".cspace/issues/1.md"], kept: [], notes: [] });

    const text = await readFile(path.join(dir, ".cspace.json"), "utf8");
    expect(text).toMatch(/^\s*\/\/ /m);
    const loaded = await loadConfig({ cwd: dir, env: {} });
    const defaults = resolveConfig({ files: [], env: {}, defaultProjectName: path.basename(dir).toLowerCase() });
    expect(loaded.config).toEqual(defaults);
    // Every section is written out, not left to defaults.
    for (const section of ["project", "forge", "container", "agent", "verify", "coordinator", "templates"]) {
      expect(text).toContain(`"${section}": {`);
    }
  });

  it("writes an example issue that parses and depends on nothing", async () => {
    const dir = await emptyDir();
    await initProject({ cwd: dir });
    const issue = await parseLocalIssue("1.md", 1, await readFile(path.join(dir, ".cspace/issues/1.md"), "utf8"));
    expect(issue).toMatchObject({ number: 1, state: "open", labels: ["example"] });
    expect(issue.body).toContain("blocked-by: #12");
    expect(parseDependencyReferences(issue.body)).toEqual([]);
  });

  it("keeps existing files untouched", async () => {
    const dir = await emptyDir();
    await writeFile(path.join(dir, ".cspace.json"), "{}\n");
    const first = await initProject({ cwd: dir });
    expect(first.created).toEqual([".cspace/issues/1.md"]);
    expect(first.kept).toEqual([".cspace.json"]);
    await writeFile(path.join(dir, ".cspace/issues/1.md"), "mine");

    const second = await initProject({ cwd: dir, name: "other" });
    expect(second).toMatchObject({ created: [], kept: [".cspace.json", ".cspace/issues/1.md"] });
    expect(await readFile(path.join(dir, ".cspace.json"), "utf8")).toBe("{}\n");
    expect(await readFile(path.join(dir, ".cspace/issues/1.md"), "utf8")).toBe("mine");
  });

  it("adds no example to an issues directory that already holds issues", async () => {
    const dir = await emptyDir();
    await mkdir(path.join(dir, ".cspace/issues"), { recursive: true });
    await writeFile(path.join(dir, ".cspace/issues/7.md"), "---\ntitle: Real\n---\n");
    const result = await initProject({ cwd: dir });
    expect(result.created).toEqual([".cspace.json"]);
    expect(result.kept).toEqual([".cspace/issues/"]);
    expect(result.notes[0]).toMatch(/already holds issues/);
  });

  it("configures the GitHub forge and the name given", async () => {
    const dir = await emptyDir();
    const result = await initProject({ cwd: dir, name: "shop", github: "acme/shop" });
    expect(result.created).toEqual([".cspace.json"]);
    expect(result.notes[0]).toMatch(/Issues come from GitHub \(acme\/shop\)/);
    const { config } = await loadConfig({ cwd: dir, env: {} });
    expect(config.project.name).toBe("shop");
    expect(config.forge).toEqual({ type: "github", repo: "acme/shop" });
  });

  it("names a bare repository as the local forge's remote, and refuses to make one outside a git repository", async () => {
    const text = await renderStartingConfig({ name: "shop", remote: "../shop.git" });
    const dir = await emptyDir();
    await writeFile(path.join(dir, ".cspace.json"), text);
    expect((await loadConfig({ cwd: dir, env: {} })).config.forge).toEqual({ type: "local", issuesDir: ".cspace/issues", remote: "../shop.git" });

    const error = await initProject({ cwd: dir, localForge: true }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toMatch(/is not in a git repository/);
  });

  it("refuses invalid flags, saying what is valid", async () => {
    const dir = await emptyDir();
    await expect(initProject({ cwd: dir, name: "My Shop" })).rejects.toThrow(
      /^--name: got "My Shop" — expected lowercase letters/,
    );
    await expect(initProject({ cwd: dir, github: "acme" })).rejects.toThrow('--github: got "acme" — expected a GitHub repository as "owner/name"');
  });

  it("refuses a directory that does not exist", async () => {
    const dir = path.join(await emptyDir(), "nowhere");
    const error = await initProject({ cwd: dir }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toBe(`${dir} does not exist`);
  });
});
