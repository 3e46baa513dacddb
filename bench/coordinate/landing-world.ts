// The in-memory world of the landing comparison: as `memoryWorld`, but every
// commit knows what it holds (src/core/coordinator/world-contents.ts: which
// issues' work, each written against which others), so a verify's answer
// depends on the tree it runs on and pairs of issues can fail only together.
// Each verify takes a fixed time (a timer, as the agents), and the verifies
// of trees the host made (the landing tree, the feature branch alone) are
// counted: the extra verifies the rule "only verified trees land" costs.
// A landing tree is the train's cars ahead merged onto the tip, then the
// candidate: what its squash will hold once they have merged.
import { setTimeout as delay } from "node:timers/promises";
import type { LandingPreparation, LandingRequest } from "../../src/core/branches/port.ts";
import { committed, merged, restacked, treeId, treePasses, type Contents, type WorldSemantics } from "../../src/core/coordinator/world-contents.ts";
import type { LaunchRequest, VerifyOutcome, VerifyRequest } from "../../src/core/coordinator-runtime/ports.ts";
import type { MergeResult, SquashMergeOptions } from "../../src/core/forge/port.ts";
import { FakeContainerRuntime } from "../../test/fakes/container-runtime.ts";
import { forgeMover } from "../../test/fakes/forge-commits.ts";
import { FakeForge } from "../../test/fakes/forge.ts";
import { issuesFrom } from "../../test/fakes/issues.ts";
import { FakeWorkerPool, type FakeWorkerPoolOptions } from "../../test/fakes/worker-pool.ts";
import type { BenchGraph } from "./graphs.ts";
import { StampedPool, type BenchWorld } from "./worlds.ts";

/** Every commit's contents, by sha; an unknown sha is a defect of this world, not an empty tree. */
class ContentsTable {
  readonly #bySha = new Map<string, Contents>();

  set(sha: string, contents: Contents): void {
    this.#bySha.set(sha, contents);
  }

  of(sha: string | null): Contents {
    if (sha === null) return {};
    const contents = this.#bySha.get(sha);
    if (contents === undefined) throw new Error(`landing bench: no contents recorded for commit ${sha}`);
    return contents;
  }
}

/** A FakeForge whose squash merges record what they hold, and which of them landed on the feature branch. */
class ContentsForge extends FakeForge {
  /** Squash commits on the feature branch, in the order they landed. */
  readonly landed: string[] = [];
  readonly #table: ContentsTable;
  readonly #featureBranch: string;

  constructor(table: ContentsTable, featureBranch: string) {
    super({ defaultBranch: "main" });
    this.#table = table;
    this.#featureBranch = featureBranch;
  }

  override async squashMerge(number: number, options: SquashMergeOptions): Promise<MergeResult> {
    const pull = await this.getPullRequest(number);
    const tip = await this.branchHead(pull.base);
    const result = await super.squashMerge(number, options);
    const issue = Number(pull.head.replace("issue-", ""));
    this.#table.set(result.sha, merged(issue, this.#table.of(tip), this.#table.of(options.expectedHeadSha)));
    if (pull.base === this.#featureBranch) this.landed.push(result.sha);
    return result;
  }
}

/**
 * A fake pool whose verify takes `verifyMs` (`hostVerifyMs` for a tree the host made) and answers from the tree's
 * contents; it counts the verifies of trees the host made.
 */
class JudgingPool extends FakeWorkerPool {
  /** Verifies of a commit the host made (`detached`): the landing tree, or the feature branch alone. */
  hostVerifies = 0;
  /** Of those, how many ran on a tree that had already passed a verify (the branch's own, after its restack): the same tree twice. */
  repeatVerifies = 0;
  readonly #passed = new Set<string>();
  readonly #table: ContentsTable;
  readonly #semantics: WorldSemantics;
  readonly #verifyMs: number;
  readonly #hostVerifyMs: number;

  constructor(options: FakeWorkerPoolOptions, table: ContentsTable, semantics: WorldSemantics, verifyMs: number, hostVerifyMs: number) {
    super(options);
    this.#table = table;
    this.#semantics = semantics;
    this.#verifyMs = verifyMs;
    this.#hostVerifyMs = hostVerifyMs;
  }

  override async verify(request: VerifyRequest): Promise<VerifyOutcome> {
    if (request.detached === true) this.hostVerifies++;
    const command = request.commands[0] ?? "verify";
    const ended = await delay(request.detached === true ? this.#hostVerifyMs : this.#verifyMs, false, request.signal === undefined ? {} : { signal: request.signal }).catch(() => true);
    if (ended) return { ok: false, command, exitCode: null, outputTail: "ended before it finished" };
    const contents = this.#table.of(request.headSha);
    if (!treePasses(this.#semantics, contents)) return { ok: false, command, exitCode: 1, outputTail: "1 test failed: two changes break each other" };
    const tree = treeId(contents);
    if (request.detached === true && this.#passed.has(tree)) this.repeatVerifies++;
    this.#passed.add(tree);
    return { ok: true };
  }
}

export interface LandingWorld extends BenchWorld {
  /** Of the commits the run put on the feature branch, how many fail verify (judged from their contents). */
  readonly redLandings: () => { readonly red: number; readonly landed: number };
  readonly hostVerifies: () => number;
  readonly repeatVerifies: () => number;
}

/**
 * FakeForge with contents, a mover over it, agents of the graph's durations.
 * An agent commits on its branch's head (or its base's), written against
 * what is there; a later attempt first brings the feature branch in (the
 * retry prompt after a failure on the combined tree says to). A restack is
 * the branch's work merged onto the new base; a landing tree, onto the tip
 * with the train's cars ahead merged first.
 */
export function landingWorld(graph: BenchGraph, semantics: WorldSemantics, verifyMs: number, featureBranch: string, hostVerifyMs = verifyMs): LandingWorld {
  const table = new ContentsTable();
  const forge = new ContentsForge(table, featureBranch);
  forge.addIssues(issuesFrom(Object.fromEntries(graph.deps)));
  let made = 0;
  /** Whose work each commit an agent or a restack made is: a train car names only its head. */
  const issueOf = new Map<string, number>();
  const seedCommit = async (branch: string, issue: number, note: string, from: string | undefined, contents: Contents): Promise<string> => {
    const sha = await forge.seed.commit(branch, { [`src/issue-${String(issue)}.txt`]: `${note} ${String(++made)}\n` }, `#${String(issue)}: ${note}`, from);
    table.set(sha, contents);
    issueOf.set(sha, issue);
    return sha;
  };
  const issueOfSha = (sha: string): number => {
    const issue = issueOf.get(sha);
    if (issue === undefined) throw new Error(`landing bench: a train car's head ${sha} is no issue's commit`);
    return issue;
  };
  void forge.seed.commit("main", { "README.md": "hello\n" }, "initial").then((sha) => { table.set(sha, {}); });
  const checkouts = new Map<string, string>();
  const commit = async (launch: LaunchRequest): Promise<string> => {
    const from = launch.headSha ?? (await forge.branchHead(launch.base));
    const tip = launch.attempt > 1 ? table.of(await forge.branchHead(featureBranch)) : null;
    const sha = await seedCommit(`ws/${launch.instance}/${String(made)}`, launch.issue, `attempt ${String(launch.attempt)}`, from ?? undefined, committed(launch.issue, table.of(from), tip));
    checkouts.set(launch.instance, sha);
    return sha;
  };
  const mover = forgeMover(forge, {
    checkouts,
    restackCommit: (request, head) => {
      const issue = Number(request.branch.replace("issue-", ""));
      return seedCommit(`rs/${request.branch}/${String(made)}`, issue, "restacked", request.onto, restacked(issue, table.of(head), table.of(request.onto)));
    },
    // The tree that would land: the train's cars ahead merged onto the tip first, in order (each as its squash
    // would: the tip's version of everything but the car's own work), then the head's work, as a commit of its
    // own that verify runs on. So a car verified behind a pair that breaks together fails, as it would for real.
    prepareLanding: async (request: LandingRequest): Promise<LandingPreparation> => {
      const baseSha = (await forge.branchHead(request.base)) ?? "";
      let onto = table.of(baseSha);
      for (const car of request.ahead ?? []) onto = merged(issueOfSha(car.head), onto, table.of(car.head));
      const issue = Number(request.headBranch.replace("issue-", ""));
      const contents = merged(issue, onto, table.of(request.head));
      const commitSha = await seedCommit(`landing/${request.headBranch}/${String(made)}`, issue, "landing", baseSha, contents);
      return { ok: true, baseSha, tree: treeId(contents), commit: commitSha, underneath: "" };
    },
    // A commit's tree is named by its contents, as the landing trees are: the runtime compares each squash with
    // the tree that was verified (a mismatch stops the run's merges: `LandingMismatched`, counted by the bench).
    treeOf: (commit: string) => Promise.resolve(treeId(table.of(commit))),
  });

  const judging = new JudgingPool({ commit, agentMsOf: (launch) => graph.durations.get(launch.issue) ?? 0 }, table, semantics, verifyMs, hostVerifyMs);
  const pool = new StampedPool(judging);
  return {
    pool,
    ports: { runtime: () => new FakeContainerRuntime(), forge: () => forge, branches: () => mover, workers: () => pool },
    redLandings: () => ({ red: forge.landed.filter((sha) => !treePasses(semantics, table.of(sha))).length, landed: forge.landed.length }),
    hostVerifies: () => judging.hostVerifies,
    repeatVerifies: () => judging.repeatVerifies,
  };
}
