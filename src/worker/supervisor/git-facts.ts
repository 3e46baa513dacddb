import { execFile } from "node:child_process";

/** What the report says about the branch, read from the workspace; each fact is null/0 when git cannot tell. */
export interface GitFacts {
  readonly branch: string | null;
  readonly headSha: string | null;
  readonly commitsAhead: number;
}

function git(cwd: string, args: readonly string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile("git", [...args], { cwd, timeout: 10_000, maxBuffer: 1024 * 1024 }, (error, stdout) => {
      resolve(error === null ? stdout.trim() : null);
    });
  });
}

export async function headSha(workdir: string): Promise<string | null> {
  return git(workdir, ["rev-parse", "--verify", "--quiet", "HEAD"]);
}

/** `since` is the base's sha when launch.json gives one, else the base branch's name. */
export async function gitFacts(workdir: string, since: string): Promise<GitFacts> {
  const [branch, head, ahead] = await Promise.all([
    git(workdir, ["symbolic-ref", "--quiet", "--short", "HEAD"]),
    headSha(workdir),
    git(workdir, ["rev-list", "--count", `${since}..HEAD`]),
  ]);
  const count = ahead === null ? 0 : Number(ahead);
  return { branch: branch === "" ? null : branch, headSha: head === "" ? null : head, commitsAhead: Number.isInteger(count) ? count : 0 };
}
