import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import { useTempDirs } from "../support/temp-dirs.ts";

const tempDir = useTempDirs("init-local-forge");

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=test", "-c", "user.email=test@cspace.invalid", ...args], { cwd, encoding: "utf8" }).trim();
}

/** `<tmp>/shop`, a git repository on branch trunk, with one commit unless told otherwise. */
async function repository(options: { commit?: boolean } = {}): Promise<{ root: string; dir: string }> {
  const root = await tempDir();
  const dir = path.join(root, "shop");
  await mkdir(dir);
  git(dir, "init", "--quiet", "--initial-branch", "trunk");
  if (options.commit !== false) {
    await writeFile(path.join(dir, "README.md"), "# shop\n");
    git(dir, "add", "README.md");
    git(dir, "commit", "--quiet", "-m", "Initial commit");
  }
  return { root, dir };
}

/** The forge check of `cspace doctor` in `dir`: it loads the config and inspects forge.remote. */
function forgeCheck(dir: string, scratch: string): { status: string; detail: string } {
  const result = runCli(["doctor", "--json", "--cwd", dir], {
    env: { DOCKER_HOST: `unix://${path.join(scratch, "nothing.sock")}`, CSPACE_RUN_DIR: path.join(scratch, "run") },
  });
  const report = JSON.parse(result.stdout) as { checks: { id: string; status: string; detail: string }[] };
  const check = report.checks.find((c) => c.id === "forge");
  if (check === undefined) throw new Error(`no forge check in ${result.stdout}`);
  return check;
}

describe("cspace init --local-forge", () => {
  it("clones the repository bare beside it and names it in forge.remote; a second run keeps everything", async () => {
    const { root, dir } = await repository();
    const first = runCli(["init", "--local-forge", "--json", "--cwd", dir]);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(JSON.parse(first.stdout)).toEqual({
      created: ["../shop.git/", ".cspace.json", ".cspace/issues/1.md"],
      kept: [],
      remote: { name: "origin", added: true, branch: "trunk", pushProblem: null },
    });

    const bare = path.join(root, "shop.git");
    expect(git(bare, "rev-parse", "--is-bare-repository")).toBe("true");
    expect(git(bare, "rev-parse", "refs/heads/trunk")).toBe(git(dir, "rev-parse", "HEAD"));
    expect(git(bare, "symbolic-ref", "HEAD")).toBe("refs/heads/trunk");
    expect(git(bare, "remote")).toBe("");
    // The bare repository is the checkout's remote, the branch's upstream: a plain `git push` reaches the forge.
    expect(git(dir, "remote", "get-url", "origin")).toBe(bare);
    expect(git(dir, "rev-parse", "--abbrev-ref", "trunk@{upstream}")).toBe("origin/trunk");
    expect(await readFile(path.join(dir, ".cspace.json"), "utf8")).toContain('"remote": "../shop.git",');
    expect(forgeCheck(dir, root)).toMatchObject({ status: "pass", detail: ".cspace/issues: 1 issue; remote ../shop.git (bare)" });

    const config = await readFile(path.join(dir, ".cspace.json"), "utf8");
    const second = runCli(["init", "--local-forge", "--cwd", dir]);
    expect(second.status).toBe(0);
    expect(second.stdout).toContain("The git remote origin already names ../shop.git: `git push origin trunk` sends later commits to the forge.");
    expect(git(dir, "remote")).toBe("origin");
    expect(second.stdout).toMatch(/kept +\.\.\/shop\.git\/ \(already there, left unchanged\)/);
    expect(second.stdout).not.toContain("created");
    expect(await readFile(path.join(dir, ".cspace.json"), "utf8")).toBe(config);
  });

  it("puts the bare repository where --remote says, written relative to the project", async () => {
    const { root, dir } = await repository();
    const elsewhere = path.join(await tempDir(), "forges", "shop-remote.git");
    await mkdir(path.dirname(elsewhere));
    const result = runCli(["init", "--local-forge", "--remote", elsewhere, "--cwd", dir]);
    expect(result.status).toBe(0);
    const relative = path.relative(dir, elsewhere);
    expect(await readFile(path.join(dir, ".cspace.json"), "utf8")).toContain(`"remote": ${JSON.stringify(relative)},`);
    expect(forgeCheck(dir, root)).toMatchObject({ status: "pass", detail: `.cspace/issues: 1 issue; remote ${relative} (bare)` });
    expect(existsSync(path.join(root, "shop.git"))).toBe(false);
  });

  it("tells how to wire the bare repository when .cspace.json already exists", async () => {
    const { dir } = await repository();
    await writeFile(path.join(dir, ".cspace.json"), "{}\n");
    const result = runCli(["init", "--local-forge", "--cwd", dir]);
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/created \.\.\/shop\.git\//);
    expect(result.stdout).toContain('.cspace.json was kept as it is: to use the bare repository, set "forge": {"type": "local", "remote": "../shop.git"} in it.');
    expect(await readFile(path.join(dir, ".cspace.json"), "utf8")).toBe("{}\n");
  });

  it.each([
    ["outside a git repository", async () => ({ dir: await tempDir() }), /is not in a git repository/, /git init/],
    ["in a repository with no commits", async () => repository({ commit: false }), /has no commits yet/, /git commit/],
  ])("exits 2 %s and writes nothing", async (_name, make, message, hint) => {
    const { dir } = await make();
    const result = runCli(["init", "--local-forge", "--cwd", dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(hint);
    expect(existsSync(path.join(dir, ".cspace.json"))).toBe(false);
    expect(existsSync(path.join(dir, ".cspace"))).toBe(false);
    expect(existsSync(path.join(path.dirname(dir), `${path.basename(dir)}.git`))).toBe(false);
  });

  it("never overwrites what is at the remote's path, and refuses --remote alone or with --github", async () => {
    const { root, dir } = await repository();
    await writeFile(path.join(root, "shop.git"), "not a repository\n");
    const taken = runCli(["init", "--local-forge", "--cwd", dir]);
    expect(taken.status).toBe(2);
    expect(taken.stderr).toContain("../shop.git already exists and is not a bare git repository");
    expect(await readFile(path.join(root, "shop.git"), "utf8")).toBe("not a repository\n");
    expect(existsSync(path.join(dir, ".cspace.json"))).toBe(false);

    const alone = runCli(["init", "--remote", "../x.git", "--cwd", dir]);
    expect(alone.status).toBe(2);
    expect(alone.stderr).toContain("--local-forge was not given");
    const both = runCli(["init", "--local-forge", "--github", "acme/shop", "--cwd", dir]);
    expect(both.status).toBe(2);
    expect(both.stderr).toContain("--local-forge and --github");
    const inside = runCli(["init", "--local-forge", "--remote", "forge.git", "--cwd", dir]);
    expect(inside.status).toBe(2);
    expect(inside.stderr).toContain("inside the repository it is cloned from");
    expect(existsSync(path.join(dir, ".cspace.json"))).toBe(false);
  });

  it("names the remote cspace when the repository has an origin already, and pushes later commits there", async () => {
    const { root, dir } = await repository();
    const upstream = path.join(root, "elsewhere.git");
    git(root, "init", "--quiet", "--bare", upstream);
    git(dir, "remote", "add", "origin", upstream);
    const result = runCli(["init", "--local-forge", "--cwd", dir]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toContain("Added the git remote cspace for ../shop.git: `git push cspace trunk` sends later commits to the forge, where runs start.");
    expect(git(dir, "remote", "get-url", "origin")).toBe(upstream);
    await writeFile(path.join(dir, "later.txt"), "later\n");
    git(dir, "add", "later.txt");
    git(dir, "commit", "--quiet", "-m", "Later");
    git(dir, "push", "--quiet", "cspace", "trunk");
    expect(git(path.join(root, "shop.git"), "rev-parse", "trunk")).toBe(git(dir, "rev-parse", "HEAD"));
  });
});
