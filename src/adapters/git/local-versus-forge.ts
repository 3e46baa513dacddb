import { realpath } from "node:fs/promises";
import path from "node:path";
import type { LocalVersusForge } from "../../core/branches/local-ahead.ts";
import { runGit } from "./run-git.ts";

const TIMEOUT_MS = 60_000;

function git(repoDir: string, args: readonly string[]) {
  return runGit(["-C", repoDir, ...args], { okCodes: "any", timeoutMs: TIMEOUT_MS });
}

/**
 * Where the user's own `branch` stands against the forge's head of it,
 * counted in a repository that has both commits: the user's, else the
 * forge's own (`forgeRepo`, the local forge's bare repository). Nothing is
 * written anywhere. `unknown` only when both were looked into (local commits
 * never pushed, and forge commits never fetched); `unreadable` when only the
 * user's could be, which says nothing (a checkout that has not fetched).
 */
export async function localVersusForge(repoDir: string, branch: string, forgeSha: string, forgeRepo?: string): Promise<LocalVersusForge> {
  const local = await git(repoDir, ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`]);
  if (local.exitCode !== 0) return { kind: "no-local" };
  const localSha = local.stdout.trim();
  if (localSha === forgeSha) return { kind: "same" };
  for (const dir of forgeRepo === undefined ? [repoDir] : [repoDir, forgeRepo]) {
    const known = await Promise.all([localSha, forgeSha].map((sha) => git(dir, ["cat-file", "-e", `${sha}^{commit}`])));
    if (known.some((k) => k.exitCode !== 0)) continue;
    const counts = await git(dir, ["rev-list", "--count", "--left-right", `${localSha}...${forgeSha}`]);
    const [ahead, behind] = counts.stdout.trim().split(/\s+/).map(Number);
    if (counts.exitCode === 0 && ahead !== undefined && behind !== undefined && !Number.isNaN(ahead) && !Number.isNaN(behind)) return { kind: "counted", ahead, behind };
  }
  return forgeRepo === undefined ? { kind: "unreadable" } : { kind: "unknown", localSha };
}

/** The name of the user's remote whose URL is this bare repository (as a path or file:// URL), or null. */
export async function remoteNamed(repoDir: string, bare: string): Promise<string | null> {
  const listed = await git(repoDir, ["config", "--get-regexp", "^remote\\..*\\.url$"]);
  if (listed.exitCode !== 0) return null;
  const target = await realpath(bare).catch(() => path.resolve(bare));
  for (const line of listed.stdout.split("\n")) {
    const match = /^remote\.(.+)\.url (.+)$/.exec(line.trim());
    if (match?.[1] === undefined || match[2] === undefined) continue;
    const url = match[2].replace(/^file:\/\//, "");
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) || /^[^/]+:/.test(url)) continue;
    const resolved = await realpath(path.resolve(repoDir, url)).catch(() => path.resolve(repoDir, url));
    if (resolved === target) return match[1];
  }
  return null;
}

export interface ConnectedRemote {
  /** The remote's name in the user's repository. */
  readonly name: string;
  /** False when a remote already named the bare repository and was kept. */
  readonly added: boolean;
  /** What happened to the push of the current branch: null when it went (or had nothing to send), else why not. */
  readonly pushProblem: string | null;
  /** The branch pushed, null on a detached HEAD. */
  readonly branch: string | null;
}

/**
 * Makes the bare repository the user's remote, so commits reach the forge
 * with a plain `git push`: `origin` when the repository has none (the
 * branch's upstream set too), else `cspace`; a remote already naming it is
 * kept. Then pushes the current branch (never forced).
 */
export async function connectRemote(repoDir: string, bare: string, branch: string | null): Promise<ConnectedRemote> {
  const existing = await remoteNamed(repoDir, bare);
  let name = existing;
  if (name === null) {
    const origin = await git(repoDir, ["remote", "get-url", "origin"]);
    name = origin.exitCode === 0 ? "cspace" : "origin";
    const added = await git(repoDir, ["remote", "add", name, bare]);
    if (added.exitCode !== 0) {
      return { name, added: false, branch, pushProblem: `could not add the remote ${name}: ${added.stderr.trim() || `git exited ${String(added.exitCode)}`}` };
    }
  }
  if (branch === null) return { name, added: existing === null, branch, pushProblem: "HEAD is detached: no branch to push" };
  const upstream = await git(repoDir, ["rev-parse", "--abbrev-ref", "--symbolic-full-name", `${branch}@{upstream}`]);
  const pushed = await git(repoDir, ["push", "--quiet", ...(upstream.exitCode === 0 ? [] : ["--set-upstream"]), name, `refs/heads/${branch}:refs/heads/${branch}`]);
  const pushProblem = pushed.exitCode === 0 ? null : pushed.stderr.trim().split("\n").slice(-3).join(" ") || `git push exited ${String(pushed.exitCode)}`;
  return { name, added: existing === null, branch, pushProblem };
}
