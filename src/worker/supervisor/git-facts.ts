import { execFile } from "node:child_process";

/**
 * What the report says about the branch, read from the workspace. `branch`
 * and `headSha` are null when git cannot tell. `commitsAhead` is null when
 * git could not count (`countError` says why): never 0, because 0 ends the
 * attempt as "no commits" and its work would never be pushed.
 */
export interface GitFacts {
  readonly branch: string | null;
  readonly headSha: string | null;
  readonly commitsAhead: number | null;
  readonly countError: string | null;
}

type GitAnswer = { readonly ok: true; readonly stdout: string } | { readonly ok: false; readonly error: string };

function git(cwd: string, args: readonly string[]): Promise<GitAnswer> {
  return new Promise((resolve) => {
    execFile("git", [...args], { cwd, timeout: 10_000, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error === null) resolve({ ok: true, stdout: stdout.trim() });
      else resolve({ ok: false, error: `git ${args.join(" ")} failed: ${stderr.trim() || error.message}` });
    });
  });
}

async function value(cwd: string, args: readonly string[]): Promise<string | null> {
  const answer = await git(cwd, args);
  return answer.ok && answer.stdout !== "" ? answer.stdout : null;
}

export async function headSha(workdir: string): Promise<string | null> {
  return value(workdir, ["rev-parse", "--verify", "--quiet", "HEAD"]);
}

/** `since` is the base's sha when launch.json gives one, else the base branch's name. */
export async function gitFacts(workdir: string, since: string): Promise<GitFacts> {
  const [branch, head, ahead] = await Promise.all([
    value(workdir, ["symbolic-ref", "--quiet", "--short", "HEAD"]),
    headSha(workdir),
    git(workdir, ["rev-list", "--count", `${since}..HEAD`, "--"]),
  ]);
  const facts = { branch, headSha: head };
  if (!ahead.ok) return { ...facts, commitsAhead: null, countError: ahead.error };
  const count = Number(ahead.stdout);
  if (!Number.isInteger(count) || count < 0) return { ...facts, commitsAhead: null, countError: `git rev-list --count ${since}..HEAD printed "${ahead.stdout}", not a count` };
  return { ...facts, commitsAhead: count, countError: null };
}
