import { execFileSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/support/temp-dirs.ts";
import { defaultBranchOf } from "./repository.ts";

const tempDir = useTempDirs("default-branch");
const git = (cwd: string, ...args: string[]): string => execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

async function repository(branch: string): Promise<string> {
  const dir = await tempDir();
  git(dir, "init", "--quiet", `--initial-branch=${branch}`);
  git(dir, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "--allow-empty", "-m", "one");
  return dir;
}

describe("defaultBranchOf (read from the ref files, or asked of git when the layout is unusual)", () => {
  it("is the remote's HEAD when the clone knows it, else the branch checked out", async () => {
    const upstream = await repository("trunk");
    const root = await tempDir();
    git(root, "clone", "--quiet", upstream, "clone");
    const clone = path.join(root, "clone");
    git(clone, "checkout", "--quiet", "-b", "feature/x");
    expect(await defaultBranchOf(clone)).toBe("trunk");
    expect(await defaultBranchOf(await repository("develop"))).toBe("develop");
  });

  it("falls back to git for a detached HEAD and for a worktree, answering as git does", async () => {
    const dir = await repository("main");
    const worktree = path.join(await tempDir(), "wt");
    git(dir, "worktree", "add", "--quiet", "-b", "side", worktree);
    expect(await defaultBranchOf(worktree)).toBe("side");
    git(dir, "checkout", "--quiet", "--detach");
    expect(await defaultBranchOf(dir)).toBe("main");
  });
});
