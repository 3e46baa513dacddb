import type { BranchMover } from "../../core/branches/port.ts";
import type { PredictConflicts, TellWorker } from "../../core/coordinator/actions.ts";
import { outcomeEvents, type ActionResults, type FoundConflict } from "../../core/coordinator/outcomes.ts";
import { attributedPaths, conflictKey, meetByMerging, predictionCandidates, predictionsOf, type PredictionCandidate } from "../../core/coordinator/predictions.ts";
import type { CoordinatorState } from "../../core/coordinator/state.ts";
import type { ExecutionContext } from "./execute.ts";

/**
 * A prediction round (core/coordinator/predictions.ts): every in-flight
 * branch is read (as pushed, as left on the forge by an earlier run, or as
 * its working agent has committed so far), then `predictConflicts` (merge-tree
 * in the host's store, no checkout) is asked for each branch against the
 * feature branch and against every branch that merges before it, is not
 * built on it (nor it on that one) and changes one of the same paths
 * (`changedPaths`, one diff per head). A stacked branch takes part with its
 * own commits only (its parent's head..its head): a conflict only its
 * parent's commits make is the parent's, and told once. Answers are
 * kept per pair of commits for the coordinator's life, so a round after one
 * push asks only about the pairs that push changed. Best effort: a round
 * that cannot be made records why (the run goes on, the next push or merge
 * tries again); it never fails an issue.
 */

/** The hunks a prediction keeps (and the later agent is shown), at most. */
export const HUNK_CHARS = 2_000;

/** Paths in conflict per (onto, head) pair of commits: a pair's answer never changes. */
const answers = new WeakMap<BranchMover, Map<string, readonly string[]>>();
/** Paths a head changes since its merge base with where its own commits start (the feature branch, or a stacked branch's parent head), per (start, head). */
const changedCache = new WeakMap<BranchMover, Map<string, readonly string[]>>();

export async function predictionRound(context: ExecutionContext, action: PredictConflicts): Promise<void> {
  const started = performance.now();
  const state = context.state();
  let result: Omit<ActionResults["PredictConflicts"], "ms">;
  try {
    result = await findConflicts(context.branches, state, context.signal);
  } catch (error) {
    context.signal?.throwIfAborted();
    result = { found: [], current: predictionsOf(state).current, pairs: 0, error: error instanceof Error ? error.message : String(error) };
  }
  await context.record(outcomeEvents(action, { ...result, ms: performance.now() - started }, context.now()));
}

export async function tellWorker(context: ExecutionContext, action: TellWorker): Promise<void> {
  let result: ActionResults["TellWorker"];
  try {
    await context.workers.tell(action.instance, action.text);
    result = { delivered: true };
  } catch (error) {
    context.signal?.throwIfAborted();
    result = { delivered: false, error: error instanceof Error ? error.message : String(error) };
  }
  await context.record(outcomeEvents(action, result, context.now()));
}

interface Read extends PredictionCandidate {
  readonly sha: string;
}

async function findConflicts(branches: BranchMover, state: CoordinatorState, signal?: AbortSignal): Promise<Omit<ActionResults["PredictConflicts"], "ms">> {
  const feature = state.run?.settings.featureBranch;
  if (feature === undefined) return { found: [], current: [], pairs: 0, error: null };
  const candidates = predictionCandidates(state);
  const options = { signal };
  const forge = await branches.fetch([feature, ...candidates.map((candidate) => candidate.branch)], options);
  const featureSha = forge.get(feature) ?? null;
  if (featureSha === null) return { found: [], current: [], pairs: 0, error: `${feature} is not on the forge` };
  const read: Read[] = [];
  for (const candidate of candidates) {
    const working = candidate.working === null ? null : await branches.readWork(candidate.working, candidate.branch, options);
    const sha = working ?? candidate.pushedSha ?? forge.get(candidate.branch) ?? null;
    // A branch with nothing of its own yet cannot conflict with anything.
    if (sha !== null && sha !== featureSha) read.push({ ...candidate, sha, working: working === null ? null : candidate.working });
  }
  const cache = answers.get(branches) ?? new Map<string, readonly string[]>();
  answers.set(branches, cache);
  const known = new Set(predictionsOf(state).conflicts.map((conflict) => conflict.key));
  const found: FoundConflict[] = [];
  const current: string[] = [];
  let pairs = 0;
  // What each branch's own commits change, once per (start, head): a pair whose changes do not meet is clean without a merge-tree.
  const changed = changedCache.get(branches) ?? new Map<string, readonly string[]>();
  changedCache.set(branches, changed);
  const ownPaths = async (side: Read): Promise<ReadonlySet<string>> => {
    // A stacked branch's own commits start at its parent's head; any other's at the feature branch.
    const from = side.stackedOn !== null && side.baseSha !== null ? side.baseSha : featureSha;
    const key = `${from}...${side.sha}`;
    let paths = changed.get(key);
    if (paths === undefined) {
      paths = await branches.changedPaths({ branch: side.sha, onto: from }, options);
      changed.set(key, paths);
    }
    return new Set(paths);
  };
  const ask = async (earlier: Read | { issue: null; branch: string; sha: string }, later: Read): Promise<void> => {
    pairs++;
    const mine = earlier.issue !== null || later.stackedOn !== null ? await ownPaths(later) : null;
    const theirs = earlier.issue !== null ? await ownPaths(earlier) : null;
    if (mine !== null && theirs !== null && ![...mine].some((path) => theirs.has(path))) return;
    const pair = `${earlier.sha}>${later.sha}`;
    let answer = cache.get(pair);
    if (answer === undefined) {
      answer = await branches.predictConflicts({ branch: later.sha, onto: earlier.sha }, options);
      cache.set(pair, answer);
    }
    // A stacked side answers only for what its own commits change: its parent's conflicts are the parent's pair's.
    const paths = attributedPaths(answer, later.stackedOn === null ? null : mine, earlier.issue !== null && earlier.stackedOn !== null ? theirs : null);
    if (paths.length === 0) return;
    const key = conflictKey(earlier.issue, earlier.sha, later.issue, later.sha);
    current.push(key);
    if (known.has(key)) return;
    const only = paths.length < answer.length ? { paths } : {};
    const hunks = await branches.conflictHunks({ branch: later.sha, onto: earlier.sha, ...only }, HUNK_CHARS, options);
    found.push({ key, earlier: earlier.issue, earlierBranch: earlier.branch, earlierSha: earlier.sha, later: later.issue, laterSha: later.sha, paths, hunks, working: later.working !== null });
  };
  for (const [index, later] of read.entries()) {
    // A stacked branch meets the feature branch too: its restack, once its parent merges, replays its own commits there.
    await ask({ issue: null, branch: feature, sha: featureSha }, later);
    for (const earlier of read.slice(0, index)) {
      if (meetByMerging(earlier, later) && earlier.sha !== later.sha) await ask(earlier, later);
    }
  }
  return { found, current, pairs, error: null };
}
