import { execFileSync } from "node:child_process";
import { mkdir, writeFile, chmod } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ExternalError } from "../../core/errors.ts";
import { useTempDirs } from "../../../test/support/temp-dirs.ts";
import { gitEnvironment, runGit } from "./run-git.ts";

const tempDir = useTempDirs("run-git");

function initRepo(dir: string): void {
  execFileSync("git", ["init", "--quiet", "--initial-branch=main", dir]);
}

describe("runGit", () => {
  it("returns what git printed, and feeds stdin when given input", async () => {
    const dir = await tempDir();
    initRepo(dir);
    const result = await runGit(["hash-object", "--stdin"], { cwd: dir, input: "hello\n" });
    expect(result).toEqual({ exitCode: 0, stdout: "ce013625030ba8dba906f756967f9e9ca394464a\n", stderr: "" });
  });

  it("names the command, the directory and git's own words when git fails", async () => {
    const dir = await tempDir();
    initRepo(dir);
    const attempt = runGit(["rev-parse", "--verify", "no-such-branch"], { cwd: dir });
    await expect(attempt).rejects.toThrow(ExternalError);
    await expect(attempt).rejects.toThrow(`git rev-parse --verify no-such-branch failed in ${dir} (exit 128): fatal: Needed a single revision`);
  });

  it("returns an accepted failure's exit code instead of throwing", async () => {
    const dir = await tempDir();
    initRepo(dir);
    const result = await runGit(["rev-parse", "--verify", "--quiet", "no-such-branch"], { cwd: dir, okCodes: [0, 1] });
    expect(result.exitCode).toBe(1);
  });

  it("says which signal ended a git that was killed, never an undefined exit code", async () => {
    const dir = await tempDir();
    // The alias's shell kills its parent: git dies of SIGKILL, as under the OOM killer.
    const attempt = runGit(["-c", "alias.die=!kill -9 $PPID", "die"], { cwd: dir, okCodes: "any" });
    await expect(attempt).rejects.toThrow(/git -c alias\.die=.* failed in .*: git was killed by SIGKILL before it finished$/);
    await expect(attempt).rejects.not.toThrow(/undefined/);
  });

  it("stops a git that outlives its timeout and says so", async () => {
    const dir = await tempDir();
    const attempt = runGit(["-c", "alias.hang=!sleep 30", "hang"], { cwd: dir, timeoutMs: 300 });
    await expect(attempt).rejects.toThrow("git did not finish within 0.3 s and was stopped (SIGTERM)");
  });

  it("rejects with the abort reason when cancelled", async () => {
    const dir = await tempDir();
    const controller = new AbortController();
    const attempt = runGit(["-c", "alias.hang=!sleep 30", "hang"], { cwd: dir, signal: controller.signal });
    const reason = new Error("user pressed Ctrl-C");
    controller.abort(reason);
    await expect(attempt).rejects.toBe(reason);
  });

  it("says a missing directory is missing, not that git is not installed", async () => {
    const dir = path.join(await tempDir(), "gone");
    await expect(runGit(["status"], { cwd: dir })).rejects.toThrow(`git status failed in ${dir}: the directory does not exist`);
  });

  it("runs no hook: a commit cspace makes is not stopped by the repository's pre-commit hook", async () => {
    const dir = await tempDir();
    initRepo(dir);
    await mkdir(path.join(dir, ".git", "hooks"), { recursive: true });
    const hook = path.join(dir, ".git", "hooks", "pre-commit");
    await writeFile(hook, "#!/bin/sh\necho refused by hook >&2\nexit 1\n");
    await chmod(hook, 0o755);
    const identity = { GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@x.invalid", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@x.invalid" };
    await runGit(["commit", "--quiet", "--allow-empty", "-m", "x"], { cwd: dir, env: identity });
    expect((await runGit(["rev-list", "--count", "HEAD"], { cwd: dir })).stdout.trim()).toBe("1");
  });
});

describe("gitEnvironment", () => {
  it("drops what points git elsewhere and config injected by a parent git, and keeps the user's own settings", () => {
    const env = gitEnvironment({
      PATH: "/usr/bin",
      HOME: "/home/ada",
      GIT_DIR: "/elsewhere/.git",
      GIT_WORK_TREE: "/elsewhere",
      GIT_INDEX_FILE: "/elsewhere/.git/index",
      GIT_OBJECT_DIRECTORY: "/elsewhere/.git/objects",
      GIT_ALTERNATE_OBJECT_DIRECTORIES: "/other/objects",
      GIT_COMMON_DIR: "/elsewhere/.git",
      GIT_NAMESPACE: "ns",
      GIT_QUARANTINE_PATH: "/elsewhere/.git/objects/incoming-x",
      GIT_PREFIX: "sub/",
      GIT_CONFIG_PARAMETERS: "'core.bare'='true'",
      GIT_CONFIG_COUNT: "1",
      GIT_CONFIG_KEY_0: "core.worktree",
      GIT_CONFIG_VALUE_0: "/elsewhere",
      GIT_CEILING_DIRECTORIES: "/home",
      GIT_CONFIG_GLOBAL: "/home/ada/.gitconfig-work",
      LANGUAGE: "de",
    });
    expect(env).toEqual({
      PATH: "/usr/bin",
      HOME: "/home/ada",
      GIT_CEILING_DIRECTORIES: "/home",
      GIT_CONFIG_GLOBAL: "/home/ada/.gitconfig-work",
      LC_ALL: "C",
      GIT_TERMINAL_PROMPT: "0",
    });
  });
});
