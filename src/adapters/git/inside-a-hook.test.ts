import { execFileSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { useTempDirs } from "../../../test/support/temp-dirs.ts";
import { repositoryKind } from "./git-version.ts";
import { defaultBranchOf } from "./repository.ts";

const tempDir = useTempDirs("git-hook");

afterEach(() => {
  vi.unstubAllEnvs();
});

function git(dir: string, ...args: string[]): void {
  execFileSync("git", ["-C", dir, ...args], { stdio: "ignore" });
}

/** A repository with a commit on `branch`. */
function repoOn(dir: string, branch: string): void {
  execFileSync("git", ["init", "--quiet", `--initial-branch=${branch}`, dir]);
  git(dir, "-c", "user.name=t", "-c", "user.email=t@x.invalid", "commit", "--quiet", "--allow-empty", "-m", "init");
}

// Inside a git hook (or `git rebase -x`, or an alias), git exports GIT_DIR and
// GIT_WORK_TREE naming the repository the hook runs for; cspace started there
// must still answer about the directory it was asked about.
describe("git questions asked from inside another repository's hook", () => {
  it("answers repositoryKind and defaultBranchOf for the named directory, not for GIT_DIR", async () => {
    const root = await tempDir();
    const hooked = path.join(root, "hooked");
    repoOn(hooked, "hook-branch");
    const project = path.join(root, "project");
    repoOn(project, "trunk");
    const bare = path.join(root, "remote.git");
    execFileSync("git", ["init", "--quiet", "--bare", bare]);
    const plain = path.join(root, "plain");
    await mkdir(plain);
    vi.stubEnv("GIT_DIR", path.join(hooked, ".git"));
    vi.stubEnv("GIT_WORK_TREE", hooked);
    vi.stubEnv("GIT_INDEX_FILE", path.join(hooked, ".git", "index"));

    expect(await repositoryKind(bare)).toBe("bare");
    expect(await repositoryKind(plain)).toBe("none");
    expect(await repositoryKind(project)).toBe("worktree");
    expect(await defaultBranchOf(project)).toBe("trunk");
    expect(await defaultBranchOf(plain)).toBe("main");
  });
});
