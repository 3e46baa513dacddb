import path from "node:path";
import { UserError } from "../../../core/errors.ts";
import type { Forge } from "../../../core/forge/port.ts";
import { repositoryKind } from "../../git/git-version.ts";
import { defaultBranchOf } from "../../git/repository.ts";
import { checkLocalForge } from "./health.ts";
import { createLocalBranches } from "./local-branches.ts";
import { createLocalIssueStore } from "./local-issues.ts";
import type { LocalPullRequests } from "./local-pull-requests.ts";

export interface LocalForgeOptions {
  readonly projectDir: string;
  /** The issues directory, relative to the project (forge.issuesDir) or absolute. */
  readonly issuesDir: string;
  /** The bare repository, relative to the project (forge.remote) or absolute; without it only issues work. */
  readonly remote: string | undefined;
}

/**
 * The embedded forge: issues are markdown files in the project, branches are
 * refs in a bare repository on disk, pull requests are records inside it, and
 * merges are computed by git plumbing without any working tree.
 */
export function createLocalForge(options: LocalForgeOptions): Forge {
  const issuesDir = path.resolve(options.projectDir, options.issuesDir);
  const issues = createLocalIssueStore(issuesDir, options.projectDir);
  let checked: Promise<string> | undefined;
  // Checked once, on first use, so commands that only read issues need no remote.
  const gitDir = (): Promise<string> => (checked ??= bareRepository(options.projectDir, options.remote));
  const branches = createLocalBranches(gitDir);
  // Loaded on first use: pull-request records are checked with zod, which reading issues (plan) never needs.
  let pullRequests: Promise<LocalPullRequests> | undefined;
  const pulls = (): Promise<LocalPullRequests> =>
    (pullRequests ??= import("./local-pull-requests.ts").then(({ createLocalPullRequests }) => createLocalPullRequests(gitDir)));

  return {
    repo: null,
    // Every issue is one directory read away, whatever the query.
    listsEveryIssueAtOnce: true,
    check: () => checkLocalForge(options),
    listIssues: (query) => issues.list(query),
    getIssue: (number) => issues.get(number),
    closeIssue: (number) => issues.close(number),
    commentOnIssue: (number, body) => issues.comment(number, body),
    listComments: (number) => issues.comments(number),
    updateComment: (number, commentId, body) => issues.updateComment(number, commentId, body),
    subIssues: (parent) => issues.subIssues(parent),
    branchHead: (branch) => branches.head(branch),
    createBranch: (branch, sha) => branches.create(branch, sha),
    moveBranch: (branch, sha, moveOptions) => branches.move(branch, sha, moveOptions),
    deleteBranch: (branch, deleteOptions) => branches.delete(branch, deleteOptions),
    // The project's own checkout decides, as it does for warm's base: no remote is needed to plan.
    defaultBranch: () => defaultBranchOf(options.projectDir),
    findPullRequest: async (head) => (await pulls()).find(head),
    openPullRequest: async (draft) => (await pulls()).open(draft),
    getPullRequest: async (number) => (await pulls()).get(number),
    retargetPullRequest: async (number, base) => (await pulls()).retarget(number, base),
    squashMerge: async (number, mergeOptions) => (await pulls()).squashMerge(number, mergeOptions),
    // The local forge runs no CI.
    checksFor: () => Promise.resolve({ state: "none", details: [] }),
  };
}

async function bareRepository(projectDir: string, remote: string | undefined): Promise<string> {
  if (remote === undefined) {
    throw new UserError("the local forge has no remote repository: forge.remote is not set", {
      hint: 'Create one with `git init --bare ../project.git` (or `cspace init --local-forge`) and set "forge": {"type": "local", "remote": "../project.git"}.',
    });
  }
  const dir = path.resolve(projectDir, remote);
  const kind = await repositoryKind(dir);
  if (kind !== "bare") {
    throw new UserError(`forge.remote "${remote}" is not a bare git repository (${kind === "none" ? "no repository there" : "it has a working tree"})`, {
      hint: `Create it with \`git init --bare ${remote}\` and push your default branch to it.`,
    });
  }
  return dir;
}
