import path from "node:path";
import type { BranchMover } from "../../core/branches/port.ts";
import type { Config } from "../../core/config/schema.ts";
import type { GitRemote } from "../git/remote/remote.ts";
import { dataDirFor, GitWorkspaces } from "../git/workspaces.ts";

export interface OpenBranchMoverOptions {
  /** `forge` from the loaded configuration. */
  readonly settings: Config["forge"];
  readonly projectDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly projectId: string;
}

/**
 * The BranchMover for the configured forge: the one place, beside
 * open-forge.ts, that knows which remotes exist. The mover shares the
 * workspaces' object store (every checkout's origin) and fetches from each
 * instance's checkout by the path the workspaces give it.
 */
export async function openBranchMover(options: OpenBranchMoverOptions): Promise<BranchMover> {
  const dataDir = dataDirFor(options.env);
  const workspaces = new GitWorkspaces({ projectDir: options.projectDir, dataDir, projectId: options.projectId });
  const [{ createGitBranchMover }, remote] = await Promise.all([import("../git/remote/git-branch-mover.ts"), remoteFor(options)]);
  return createGitBranchMover({
    remote,
    store: workspaces.storePath,
    scratchDir: path.join(dataDir, options.projectId, "scratch"),
    checkoutOf: (instance) => workspaces.pathOf(instance),
  });
}

async function remoteFor(options: OpenBranchMoverOptions): Promise<GitRemote> {
  const { settings } = options;
  switch (settings.type) {
    case "local": {
      const [{ localRemote }, { UserError }] = await Promise.all([import("../git/remote/remote.ts"), import("../../core/errors.ts")]);
      if (settings.remote === undefined) throw new UserError("the local forge has no remote repository: forge.remote is not set", { hint: "cspace init sets one up" });
      return localRemote(options.projectDir, settings.remote);
    }
    case "github": {
      const [{ githubRemote }, { findGithubToken }] = await Promise.all([import("../git/remote/github-remote.ts"), import("../forge/github/token.ts")]);
      return githubRemote({ repo: settings.repo, apiUrl: settings.apiUrl, token: () => findGithubToken(options.env, settings.apiUrl) });
    }
  }
}
