import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../support/temp-dirs.ts";
import { runCli } from "../support/cli.ts";


/** A plain directory, not a git repository: init must work there. */
const emptyDir = useTempDirs("init-cli");

interface InitJson {
  created: string[];
  kept: string[];
}

describe("cspace init", () => {
  it("creates the config and an example issue, then keeps them on a second run", async () => {
    const dir = await emptyDir();
    expect(existsSync(path.join(dir, ".git"))).toBe(false);

    const first = runCli(["init", "--cwd", dir]);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(first.stdout).toContain(`cspace project in ${dir}`);
    expect(first.stdout).toMatch(/created \.cspace\.json\n/);
    expect(first.stdout).toMatch(/created \.cspace\/issues\/1\.md\n/);
    expect(first.stdout).toMatch(/cspace doctor .+\n +cspace plan /);
    const config = await readFile(path.join(dir, ".cspace.json"), "utf8");
    const issue = await readFile(path.join(dir, ".cspace/issues/1.md"), "utf8");
    expect(issue).toMatch(/^---\ntitle: .+\nstate: open\nlabels: \[example\]\n---\n/);

    const second = runCli(["init", "--cwd", dir]);
    expect(second.status).toBe(0);
    expect(second.stdout).toMatch(/kept +\.cspace\.json \(already there, left unchanged\)/);
    expect(second.stdout).toMatch(/kept +\.cspace\/issues\/1\.md/);
    expect(second.stdout).not.toContain("created");
    expect(await readFile(path.join(dir, ".cspace.json"), "utf8")).toBe(config);
    expect(await readFile(path.join(dir, ".cspace/issues/1.md"), "utf8")).toBe(issue);
  });

  it("prints what it created and kept as JSON", async () => {
    const dir = await emptyDir();
    const first = runCli(["init", "--json", "--cwd", dir]);
    expect(first.status).toBe(0);
    expect(JSON.parse(first.stdout) as InitJson).toEqual({ created: [".cspace.json", ".cspace/issues/1.md"], kept: [] });

    const second = runCli(["--json", "init", "--cwd", dir]);
    expect(second.status).toBe(0);
    expect(JSON.parse(second.stdout) as InitJson).toEqual({ created: [], kept: [".cspace.json", ".cspace/issues/1.md"] });
  });

  it("writes a config the other commands accept: the example issue plans to launch", async () => {
    const dir = await emptyDir();
    expect(runCli(["init", "--cwd", dir]).status).toBe(0);
    const plan = runCli(["plan", "--json", "--cwd", dir, "--feature-branch", "main"]);
    expect(plan.stderr).toBe("");
    expect(plan.status).toBe(0);
    const issues = (JSON.parse(plan.stdout) as { issues: { number: number; action: string; dependencies: unknown[] }[] }).issues;
    expect(issues).toEqual([expect.objectContaining({ number: 1, action: "launch", dependencies: [] })]);
  });

  it("sets the name and the GitHub forge from flags", async () => {
    const dir = await emptyDir();
    const result = runCli(["init", "--cwd", dir, "--name", "shop", "--github", "acme/shop"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("Issues come from GitHub (acme/shop)");
    const config = await readFile(path.join(dir, ".cspace.json"), "utf8");
    expect(config).toContain('"name": "shop"');
    expect(config).toMatch(/"type": "github",\n\s+"repo": "acme\/shop"/);
    expect(existsSync(path.join(dir, ".cspace/issues/1.md"))).toBe(false);
  });

  it("exits 2 on an invalid flag, saying what is valid, and writes nothing", async () => {
    const dir = await emptyDir();
    const result = runCli(["init", "--cwd", dir, "--github", "not-a-repo"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--github: got "not-a-repo" — expected a GitHub repository as "owner/name"');
    expect(existsSync(path.join(dir, ".cspace.json"))).toBe(false);
  });

  it("exits 2 for a directory that does not exist", async () => {
    const dir = path.join(await emptyDir(), "missing");
    const result = runCli(["init", "--cwd", dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`${dir} does not exist`);
  });

  it("shows examples in its help", () => {
    const result = runCli(["init", "--help"]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain("--github <owner/name>");
    expect(result.stdout).toMatch(/Examples:\n\s+\$ cspace init\n/);
  });
});
