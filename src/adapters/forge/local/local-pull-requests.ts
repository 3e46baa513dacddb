import { pathToFileURL } from "node:url";
import { ExternalError } from "../../../core/errors.ts";
import { ForgeConflictError, ForgeNotFoundError, HeadMovedError } from "../../../core/forge/errors.ts";
import type { MergeResult, PullRequest, PullRequestDraft, SquashMergeOptions } from "../../../core/forge/port.ts";
import { squashCommitText } from "../../../core/forge/squash-message.ts";
import { assertSha, commitTree, hasCommitsBeyond, isAncestor, mergeTree, resolveCommit, resolveRefs, updateRef } from "../../git/plumbing.ts";
import { branchRef } from "./local-branches.ts";
import { createPullRequestStore, replaceRecord, type PullRequestRecord, type PullRequestState } from "./pull-request-store.ts";

export interface LocalPullRequests {
  find(headBranch: string): Promise<PullRequest | null>;
  open(draft: PullRequestDraft): Promise<PullRequest>;
  get(number: number): Promise<PullRequest>;
  retarget(number: number, base: string): Promise<PullRequest>;
  squashMerge(number: number, options: SquashMergeOptions): Promise<MergeResult>;
}

/** A moving base is retried this often: the merge is recomputed on the new base each time. */
const BASE_RACE_ATTEMPTS = 3;

export function createLocalPullRequests(gitDir: () => Promise<string>): LocalPullRequests {
  const store = async () => createPullRequestStore(await gitDir());

  async function present(dir: string, record: PullRequestRecord): Promise<PullRequest> {
    const settled = await settlePending(dir, record);
    const common = {
      number: settled.number,
      title: settled.title,
      head: settled.head,
      base: settled.base,
      mergeSha: settled.mergeSha,
      url: `${pathToFileURL(dir).href}#pull/${String(settled.number)}`,
    };
    if (settled.state !== "open") {
      // Mergeability describes open pull requests only.
      return { ...common, headSha: settled.headSha, state: settled.state, mergeability: "unknown", conflicts: [] };
    }
    const refs = await resolveRefs(dir, [branchRef(settled.head), branchRef(settled.base)]);
    const headSha = refs.get(branchRef(settled.head)) ?? settled.headSha;
    const baseSha = refs.get(branchRef(settled.base)) ?? null;
    const merge = baseSha === null ? null : await mergeTree(dir, baseSha, headSha);
    const conflicts = merge === null ? [] : merge.kind === "conflict" ? merge.paths : [];
    const mergeability = merge?.kind === "clean" ? "mergeable" : "conflicting";
    return { ...common, headSha, state: "open", mergeability, conflicts };
  }

  function recordOf(state: PullRequestState, number: number): PullRequestRecord {
    const record = state.pullRequests.find((r) => r.number === number);
    if (record === undefined) throw new ForgeNotFoundError(`pull request #${String(number)} not found in the local forge`);
    return record;
  }

  async function existingBranch(dir: string, branch: string, role: string): Promise<string> {
    const sha = await resolveCommit(dir, branchRef(branch));
    if (sha === null) throw new ForgeNotFoundError(`the ${role} branch ${branch} does not exist in the local forge`);
    return sha;
  }

  return {
    async find(headBranch) {
      branchRef(headBranch);
      const dir = await gitDir();
      const state = await (await store()).read();
      const newest = state.pullRequests.filter((r) => r.head === headBranch).sort((a, b) => b.number - a.number)[0];
      return newest === undefined ? null : present(dir, newest);
    },

    async open(draft) {
      const dir = await gitDir();
      const headSha = await existingBranch(dir, draft.head, "head");
      const baseSha = await existingBranch(dir, draft.base, "base");
      const record = await (await store()).locked(async (state, write) => {
        const open = state.pullRequests.find((r) => r.head === draft.head && r.state === "open");
        if (open !== undefined) {
          const updated = { ...open, title: draft.title, body: draft.body, base: draft.base, headSha };
          await write(replaceRecord(state, updated));
          return updated;
        }
        if (!(await hasCommitsBeyond(dir, baseSha, headSha))) {
          throw new ExternalError(`no commits between ${draft.base} and ${draft.head}: nothing to open a pull request for`);
        }
        const created: PullRequestRecord = {
          number: state.nextNumber,
          ...draft,
          state: "open",
          headSha,
          mergeSha: null,
          pendingMerge: null,
        };
        await write({ ...state, nextNumber: state.nextNumber + 1, pullRequests: [...state.pullRequests, created] });
        return created;
      });
      return present(dir, record);
    },

    async get(number) {
      const dir = await gitDir();
      return present(dir, recordOf(await (await store()).read(), number));
    },

    async retarget(number, base) {
      const dir = await gitDir();
      await existingBranch(dir, base, "base");
      const record = await (await store()).locked(async (state, write) => {
        const current = await settlePending(dir, recordOf(state, number));
        if (current.state !== "open") {
          throw new ExternalError(`pull request #${String(number)} is ${current.state}; only an open pull request can be retargeted`);
        }
        const updated = { ...current, base };
        await write(replaceRecord(state, updated));
        return updated;
      });
      return present(dir, record);
    },

    async squashMerge(number, options) {
      assertSha(options.expectedHeadSha, `the expected head of pull request #${String(number)}`);
      const dir = await gitDir();
      return (await store()).locked(async (state, write) => {
        const record = await settlePending(dir, recordOf(state, number));
        if (record.state === "merged" && record.mergeSha !== null) {
          if (record.headSha === options.expectedHeadSha) {
            if (record !== recordOf(state, number)) await write(replaceRecord(state, record));
            return { sha: record.mergeSha };
          }
          throw new HeadMovedError(`pull request #${String(number)} was already merged from ${record.headSha}, not ${options.expectedHeadSha}`, {
            expectedSha: options.expectedHeadSha,
            actualSha: record.headSha,
          });
        }
        if (record.state !== "open") throw new ForgeConflictError(`pull request #${String(number)} is ${record.state} and cannot be merged`);
        return mergeOpen(dir, state, { ...record, pendingMerge: null }, options, write);
      });
    },
  };
}

async function mergeOpen(
  dir: string,
  state: PullRequestState,
  record: PullRequestRecord,
  options: SquashMergeOptions,
  write: (next: PullRequestState) => Promise<void>,
): Promise<MergeResult> {
  // Head and base in one git process: merges are on the coordinator's hot path.
  const first = await resolveRefs(dir, [branchRef(record.head), branchRef(record.base)]);
  const headSha = first.get(branchRef(record.head)) ?? null;
  if (headSha !== options.expectedHeadSha) {
    throw new HeadMovedError(`the head of pull request #${String(record.number)} (${record.head}) is at ${headSha ?? "nothing"}, not ${options.expectedHeadSha}`, {
      expectedSha: options.expectedHeadSha,
      actualSha: headSha,
    });
  }
  for (let attempt = 1; ; attempt++) {
    const baseSha = attempt === 1 ? (first.get(branchRef(record.base)) ?? null) : await resolveCommit(dir, branchRef(record.base));
    if (baseSha === null) throw new ForgeNotFoundError(`the base branch ${record.base} of pull request #${String(record.number)} does not exist`);
    const merge = await mergeTree(dir, baseSha, headSha);
    if (merge.kind === "conflict") {
      throw new ForgeConflictError(`pull request #${String(record.number)} conflicts with ${record.base} in ${merge.paths.join(", ")}`, {
        paths: merge.paths,
      });
    }
    const squashSha = await commitTree(dir, merge.tree, [baseSha], squashCommitText(options.title, options.message));
    await write(replaceRecord(state, { ...record, pendingMerge: { squashSha, headSha } }));
    if (await updateRef(dir, branchRef(record.base), squashSha, baseSha)) {
      const merged: PullRequestRecord = { ...record, state: "merged", headSha, mergeSha: squashSha, pendingMerge: null };
      await write(replaceRecord(state, merged));
      return { sha: squashSha };
    }
    await write(replaceRecord(state, record));
    if (attempt >= BASE_RACE_ATTEMPTS) {
      throw new ExternalError(`the base branch ${record.base} kept moving while merging pull request #${String(record.number)}; try again`);
    }
  }
}

/** A record whose interrupted merge reached the base is merged; one that did not is plainly open again. */
async function settlePending(dir: string, record: PullRequestRecord): Promise<PullRequestRecord> {
  const pending = record.pendingMerge;
  if (pending === null) return record;
  const baseSha = await resolveCommit(dir, branchRef(record.base));
  const landed = baseSha !== null && (await isAncestor(dir, pending.squashSha, baseSha));
  return landed
    ? { ...record, state: "merged", headSha: pending.headSha, mergeSha: pending.squashSha, pendingMerge: null }
    : { ...record, pendingMerge: null };
}
