import { UserError } from "../../../core/errors.ts";
import { ForgeConflictError, ForgeNotFoundError, HeadMovedError } from "../../../core/forge/errors.ts";
import { assertBranchName } from "../../../core/plan/feature-branch.ts";
import { assertSha, deleteRef, headBranch, isAncestor, resolveCommit, updateRef, ZERO_OID } from "../../git/plumbing.ts";

/**
 * Branches of the local forge: refs in its bare repository, always named in
 * full (`refs/heads/<name>`) after validation, so no name reaches git as an option.
 */
export interface LocalBranches {
  head(branch: string): Promise<string | null>;
  create(branch: string, sha: string): Promise<void>;
  move(branch: string, sha: string, options: { readonly expectedSha: string; readonly force: boolean }): Promise<void>;
  delete(branch: string, options: { readonly expectedSha: string | null }): Promise<void>;
}

export function branchRef(branch: string): string {
  return `refs/heads/${assertBranchName(branch, "branch")}`;
}

export function createLocalBranches(gitDir: () => Promise<string>): LocalBranches {
  async function head(branch: string): Promise<string | null> {
    const ref = branchRef(branch);
    return resolveCommit(await gitDir(), ref);
  }

  function moved(branch: string, expectedSha: string | null, actualSha: string | null): HeadMovedError {
    return new HeadMovedError(`branch ${branch} is at ${actualSha ?? "nothing (deleted)"}, not the expected ${expectedSha ?? "nothing"}`, {
      expectedSha,
      actualSha,
    });
  }

  return {
    head,

    async create(branch, sha) {
      const ref = branchRef(branch);
      assertSha(sha, `the start of branch ${branch}`);
      const dir = await gitDir();
      if ((await resolveCommit(dir, sha)) === null) throw new ForgeNotFoundError(`commit ${sha} not found in the local forge`);
      if (await updateRef(dir, ref, sha, ZERO_OID)) return;
      const actual = await resolveCommit(dir, ref);
      if (actual === sha) return;
      throw new ForgeConflictError(`branch ${branch} already exists at ${actual ?? "an unreadable sha"}, not ${sha}`);
    },

    async move(branch, sha, { expectedSha, force }) {
      const ref = branchRef(branch);
      assertSha(sha, `the new head of branch ${branch}`);
      assertSha(expectedSha, `the expected head of branch ${branch}`);
      const dir = await gitDir();
      const actual = await resolveCommit(dir, ref);
      if (actual === null) throw new ForgeNotFoundError(`branch ${branch} not found in the local forge`);
      if (actual !== expectedSha) throw moved(branch, expectedSha, actual);
      if ((await resolveCommit(dir, sha)) === null) throw new ForgeNotFoundError(`commit ${sha} not found in the local forge`);
      if (!force && !(await isAncestor(dir, actual, sha))) {
        throw new ForgeConflictError(`moving ${branch} from ${actual} to ${sha} is not a fast-forward`);
      }
      if (!(await updateRef(dir, ref, sha, expectedSha))) throw moved(branch, expectedSha, await resolveCommit(dir, ref));
    },

    async delete(branch, { expectedSha }) {
      const ref = branchRef(branch);
      if (expectedSha !== null) assertSha(expectedSha, `the expected head of branch ${branch}`);
      const dir = await gitDir();
      if ((await headBranch(dir)) === branch) throw new UserError(`branch ${branch} is the local forge's default branch; it cannot be deleted`);
      const actual = await resolveCommit(dir, ref);
      if (actual === null) return;
      if (expectedSha !== null && actual !== expectedSha) throw moved(branch, expectedSha, actual);
      if (await deleteRef(dir, ref, expectedSha ?? actual)) return;
      const now = await resolveCommit(dir, ref);
      if (now !== null) throw moved(branch, expectedSha, now);
    },
  };
}
