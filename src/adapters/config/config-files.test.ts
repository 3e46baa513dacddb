import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/support/temp-dirs.ts";
import { ExternalError, UserError } from "../../core/errors.ts";
import { findProjectDir, parseConfigText, readConfigFile, writeFileIfAbsent } from "./config-files.ts";


const tempDir = useTempDirs("config");

function thrown(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected an error");
}

describe("parseConfigText", () => {
  it("accepts comments and trailing commas", () => {
    const text = `// top\n{\n  /* block */ "coordinator": { "maxParallel": 2, }, // after\n}\n`;
    expect(parseConfigText(".cspace.json", text)).toEqual({ coordinator: { maxParallel: 2 } });
    expect(parseConfigText(".cspace.json", "\uFEFF{}")).toEqual({});
  });

  it("names the file, line and column of a syntax error and shows the line", () => {
    const error = thrown(() => parseConfigText(".cspace.json", `{\n  "a": 1\n  "b": 2\n}\n`));
    expect(error).toBeInstanceOf(UserError);
    expect(error.message.split("\n")).toEqual([
      '.cspace.json:3:3: syntax error: expected "," between entries',
      '  3 |   "b": 2',
      "    |   ^",
    ]);
  });

  it("reports a string left open and an empty file", () => {
    expect(thrown(() => parseConfigText("x.json", '{"a": "b}')).message).toMatch(/^x\.json:1:7: syntax error: string not closed/);
    expect(thrown(() => parseConfigText("x.json", " \n")).message).toMatch(/^x\.json: the file is empty/);
  });
});

describe("readConfigFile", () => {
  it("reads a file and reports a missing one as not found", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, "a.json"), '{"project": {"name": "x"}}');
    expect(await readConfigFile(path.join(dir, "a.json"), "a.json")).toEqual({ found: true, value: { project: { name: "x" } } });
    expect(await readConfigFile(path.join(dir, "missing.json"), "missing.json")).toEqual({ found: false });
  });

  it("fails as an outside-system error when the path cannot be read", async () => {
    const dir = await tempDir();
    await mkdir(path.join(dir, ".cspace.json"));
    await expect(readConfigFile(path.join(dir, ".cspace.json"), ".cspace.json")).rejects.toThrow(ExternalError);
    await expect(readConfigFile(path.join(dir, ".cspace.json"), ".cspace.json")).rejects.toThrow(/cannot read \.cspace\.json .*EISDIR/);
  });
});

describe("findProjectDir", () => {
  it("finds the nearest directory holding .cspace.json", async () => {
    const root = await tempDir();
    await mkdir(path.join(root, ".git"));
    await mkdir(path.join(root, "app", "src", "deep"), { recursive: true });
    await writeFile(path.join(root, "app", ".cspace.json"), "{}");
    expect(await findProjectDir(path.join(root, "app", "src", "deep"))).toBe(path.join(root, "app"));
    expect(await findProjectDir(path.join(root, "app"))).toBe(path.join(root, "app"));
  });

  it("falls back to the top of the git work tree, a .git file included", async () => {
    const root = await tempDir();
    await writeFile(path.join(root, ".git"), "gitdir: /elsewhere\n");
    await mkdir(path.join(root, "a", "b"), { recursive: true });
    expect(await findProjectDir(path.join(root, "a", "b"))).toBe(root);
  });

  it("does not look above the work tree, and uses cwd outside any", async () => {
    const outer = await tempDir();
    await writeFile(path.join(outer, ".cspace.json"), "{}");
    await mkdir(path.join(outer, "repo", ".git"), { recursive: true });
    await mkdir(path.join(outer, "repo", "src"));
    expect(await findProjectDir(path.join(outer, "repo", "src"))).toBe(path.join(outer, "repo"));

    const plain = await tempDir();
    await mkdir(path.join(plain, "x"));
    expect(await findProjectDir(path.join(plain, "x"))).toBe(path.join(plain, "x"));
  });
});

describe("writeFileIfAbsent", () => {
  it("creates a file with its directories, and never replaces one", async () => {
    const dir = await tempDir();
    const file = path.join(dir, "a", "b", "c.txt");
    expect(await writeFileIfAbsent(file, "first")).toBe(true);
    expect(await writeFileIfAbsent(file, "second")).toBe(false);
    expect(await readFile(file, "utf8")).toBe("first");
  });

  it("fails clearly when a parent is a file", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, "blocker"), "");
    await expect(writeFileIfAbsent(path.join(dir, "blocker", "x.txt"), "x")).rejects.toThrow(ExternalError);
  });
});
