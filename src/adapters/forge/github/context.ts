import { UserError } from "../../../core/errors.ts";
import type { GithubClient } from "./client.ts";
import { toForgeError } from "./errors.ts";

/** What every part of the GitHub forge shares: the client, the repository and the error mapping. */
export interface GithubContext {
  readonly octokit: GithubClient;
  readonly owner: string;
  readonly repo: string;
  readonly apiUrl: string;
  /** Mergeability polling while GitHub computes it. */
  readonly poll: { readonly attempts: number; readonly initialDelayMs: number };
}

/** Runs one API call; failures become typed forge errors. */
export async function call<T>(context: GithubContext, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toForgeError(error, what, context.apiUrl);
  }
}

export function fail(context: GithubContext, what: string, error: unknown): never {
  throw toForgeError(error, what, context.apiUrl);
}

/**
 * Branch names as git's check-ref-format allows them, minus anything that
 * could read as an option: refused before any request is made.
 */
export function checkBranchName(branch: string): string {
  const bad =
    branch === "" ||
    branch === "HEAD" ||
    branch.startsWith("-") ||
    branch.startsWith("/") ||
    branch.endsWith("/") ||
    branch.endsWith(".") ||
    branch.endsWith(".lock") ||
    branch.includes("..") ||
    branch.includes("//") ||
    branch.includes("@{") ||
    branch.split("/").some((part) => part.startsWith(".")) ||
    // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
    /[\u0000-\u0020\u007f~^:?*[\\]/.test(branch);
  if (bad) {
    throw new UserError(`"${branch}" is not a valid branch name`, {
      hint: "Use letters, digits, '-', '_', '.' and '/' (no leading '-' or '.', no '..', no spaces).",
    });
  }
  return branch;
}

export function parseRepo(repo: string): { owner: string; name: string } {
  const match = /^([A-Za-z0-9-]+)\/([A-Za-z0-9._-]+)$/.exec(repo);
  if (match?.[1] === undefined || match[2] === undefined) {
    throw new UserError(`"${repo}" is not a GitHub repository`, { hint: "Give it as owner/name, e.g. octo/widgets." });
  }
  return { owner: match[1], name: match[2] };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
