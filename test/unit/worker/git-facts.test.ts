import { execFileSync } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { gitFacts } from "../../../src/worker/supervisor/git-facts.ts";
import { outcomeOf } from "../../../src/worker/supervisor/outcome.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";

const tempDir = useTempDirs("git-facts");

function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** A checkout on `issue-2` with two commits of its own on top of `main`. */
async function checkout(): Promise<{ dir: string; base: string; head: string }> {
  const dir = await tempDir();
  git(dir, "init", "--quiet", "--initial-branch=main");
  await writeFile(path.join(dir, "a.txt"), "a\n");
  git(dir, "add", "-A");
  git(dir, "commit", "--quiet", "-m", "base");
  const base = git(dir, "rev-parse", "HEAD");
  git(dir, "checkout", "--quiet", "-b", "issue-2");
  for (const name of ["b.txt", "c.txt"]) {
    await writeFile(path.join(dir, name), `${name}\n`);
    git(dir, "add", "-A");
    git(dir, "commit", "--quiet", "-m", name);
  }
  return { dir, base, head: git(dir, "rev-parse", "HEAD") };
}

const exited0 = { exit: { code: 0, signal: null, spawnError: null }, stoppedByUs: false, blockedReason: null, oomKilled: false } as const;

describe("the supervisor's git facts", () => {
  it("count the commits on the branch since the base", async () => {
    const { dir, base, head } = await checkout();
    const facts = await gitFacts(dir, base);
    expect(facts).toEqual({ branch: "issue-2", headSha: head, commitsAhead: 2, countError: null });
    expect(outcomeOf({ ...exited0, countError: facts.countError })).toBe("success");
  });

  // A relaunch onto an existing branch recorded a base the checkout had never fetched: every attempt was judged
  // "no commits" and the agent's work was never pushed.
  it("say git could not count when the base is a commit the checkout does not have, never that there are no commits", async () => {
    const { dir, head } = await checkout();
    const missing = "0123456789abcdef0123456789abcdef01234567";
    const facts = await gitFacts(dir, missing);
    expect(facts.headSha).toBe(head);
    expect(facts.commitsAhead).toBeNull();
    expect(facts.countError).toContain(missing);
    // An agent that exited 0 on such a checkout did not succeed with nothing: it is a failure whose reason is git's.
    expect(outcomeOf({ ...exited0, countError: facts.countError })).toBe("failure");
  });
});
