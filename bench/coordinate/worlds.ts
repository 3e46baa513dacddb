// The worlds the coordinate service runs on in this bench: the in-memory one
// (FakeForge, a BranchMover over it, agents of known durations) and the
// local forge one (a real bare repository, real squash merges, the real git
// BranchMover, agents committing in real checkouts). Both wrap the pool so
// the bench sees when each report reached the coordinator and when each
// launch started.
import { execFile } from "node:child_process";
import { forgeMover } from "../../test/fakes/forge-commits.ts";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import type { UnreportedSpend, WorkerReport } from "../../src/core/agents/worker-status.ts";
import type {
  AgentEventSeen,
  LaunchRequest,
  Liveness,
  ReportHandler,
  VerifyOutcome,
  VerifyRequest,
  WarmRequest,
  WorkerHandlers,
  WorkerOutcome,
  WorkerPool,
} from "../../src/core/coordinator-runtime/ports.ts";
import type { PortOverrides } from "../../src/services/project.ts";
import { FakeContainerRuntime } from "../../test/fakes/container-runtime.ts";
import { createGitBranchMover } from "../../src/adapters/git/remote/git-branch-mover.ts";
import { localRemote } from "../../src/adapters/git/remote/remote.ts";
import { FakeForge } from "../../test/fakes/forge.ts";
import { issuesFrom } from "../../test/fakes/issues.ts";
import { FakeWorkerPool } from "../../test/fakes/worker-pool.ts";
import type { BenchGraph } from "./graphs.ts";

const run = promisify(execFile);

export interface Stamp {
  readonly issue: number;
  /** performance.now() */
  readonly at: number;
}

/** A WorkerPool that records, in wall time, each report handed to the coordinator and each launch it starts. */
export class StampedPool implements WorkerPool {
  readonly launches: Stamp[] = [];
  readonly reports: Stamp[] = [];
  readonly #inner: WorkerPool;

  constructor(inner: WorkerPool) {
    this.#inner = inner;
  }

  warm(request: WarmRequest): Promise<WorkerOutcome> {
    return this.#inner.warm(request);
  }

  launch(request: LaunchRequest): Promise<WorkerOutcome> {
    this.launches.push({ issue: request.issue, at: performance.now() });
    return this.#inner.launch(request);
  }

  listen(instances: readonly string[], handlers: WorkerHandlers): Promise<void> {
    return this.#inner.listen(instances, { ...handlers, report: this.#stamped(handlers.report) });
  }

  tell(instance: string, text: string): Promise<void> {
    return this.#inner.tell(instance, text);
  }

  interrupt(instance: string): Promise<void> {
    return this.#inner.interrupt(instance);
  }

  collectPending(instances: readonly string[], onReport: ReportHandler): Promise<number> {
    return this.#inner.collectPending(instances, this.#stamped(onReport));
  }

  verify(request: VerifyRequest): Promise<VerifyOutcome> {
    return this.#inner.verify(request);
  }

  probe(instances: readonly string[]): Promise<ReadonlyMap<string, Liveness>> {
    return this.#inner.probe(instances);
  }

  spending(instances: readonly string[]): Promise<ReadonlyMap<string, UnreportedSpend>> {
    return this.#inner.spending(instances);
  }

  lastAgentEvents(instances: readonly string[]): Promise<ReadonlyMap<string, AgentEventSeen>> {
    return this.#inner.lastAgentEvents(instances);
  }

  restart(instance: string, reason: string): Promise<void> {
    return this.#inner.restart(instance, reason);
  }

  watch(onSuspect: (instance: string) => void): Promise<() => void> {
    return this.#inner.watch(onSuspect);
  }

  close(options?: { readonly down?: boolean }): Promise<void> {
    return this.#inner.close(options);
  }

  #stamped(onReport: ReportHandler): ReportHandler {
    return (instance: string, report: WorkerReport) => {
      this.reports.push({ issue: Number(instance.replace("issue-", "")), at: performance.now() });
      return onReport(instance, report);
    };
  }
}

export interface BenchWorld {
  readonly pool: StampedPool;
  /** The ports to replace; the event store and the lock stay real (SQLite in the data directory) unless `fakeStore`. */
  readonly ports: PortOverrides;
}

/** Everything in memory but the event store: FakeForge, a mover over it (each issue writes its own file), agents of the graph's durations. */
export function memoryWorld(graph: BenchGraph): BenchWorld {
  const forge = new FakeForge({ defaultBranch: "main" });
  forge.addIssues(issuesFrom(Object.fromEntries(graph.deps)));
  void forge.seed.commit("main", { "README.md": "hello\n" }, "initial");
  const checkouts = new Map<string, string>();
  let made = 0;
  const commit = async (launch: LaunchRequest): Promise<string> => {
    const from = launch.headSha ?? (await forge.branchHead(launch.base)) ?? undefined;
    const sha = await forge.seed.commit(`ws/${launch.instance}/${String(++made)}`, { [`src/issue-${String(launch.issue)}.txt`]: `attempt ${String(launch.attempt)}\n` }, `#${String(launch.issue)}: work`, from);
    checkouts.set(launch.instance, sha);
    return sha;
  };
  const mover = forgeMover(forge, {
    checkouts,
    restackCommit: (request) => {
      const issue = request.branch.replace("issue-", "");
      return forge.seed.commit(`rs/${request.branch}/${String(++made)}`, { [`src/issue-${issue}.txt`]: "restacked\n" }, `${request.branch}: restacked`, request.onto);
    },
  });
  const pool = new StampedPool(new FakeWorkerPool({ commit, agentMsOf: (launch) => graph.durations.get(launch.issue) ?? 0 }));
  // The container engine is never used by a fake pool, but the run checks it answers: a fake one does.
  return { pool, ports: { runtime: () => new FakeContainerRuntime(), forge: () => forge, branches: () => mover, workers: () => pool } };
}

async function git(cwd: string, args: readonly string[], options: { readonly env?: NodeJS.ProcessEnv; readonly input?: string } = {}): Promise<string> {
  const env = { ...process.env, GIT_AUTHOR_NAME: "bench", GIT_AUTHOR_EMAIL: "bench@cspace.invalid", GIT_COMMITTER_NAME: "bench", GIT_COMMITTER_EMAIL: "bench@cspace.invalid", ...options.env };
  if (options.input === undefined) return (await run("git", ["-C", cwd, ...args], { env })).stdout.trim();
  return new Promise((resolve, reject) => {
    const child = execFile("git", ["-C", cwd, ...args], { env }, (error, stdout) => {
      if (error === null) resolve(stdout.trim());
      else reject(new Error(`git ${args.join(" ")}: ${error.message}`));
    });
    child.stdin?.end(options.input);
  });
}

/**
 * The local forge for real: `project` (a git repository whose main is the
 * default branch, issues in .cspace/issues) with `remote.git` beside it, the
 * real git BranchMover (store, scratch and checkouts under `root`), and agents
 * that commit in their own checkout at `root/workspaces/issue-N` on top of
 * the forge's head of their branch (or their base).
 */
export async function localForgeWorld(root: string, graph: BenchGraph, config: unknown): Promise<BenchWorld & { readonly projectDir: string }> {
  const projectDir = path.join(root, "project");
  const remote = path.join(root, "remote.git");
  await mkdir(path.join(projectDir, ".cspace", "issues"), { recursive: true });
  await writeFile(path.join(projectDir, ".cspace.json"), `${JSON.stringify(config, null, 2)}\n`);
  for (const [issue, deps] of graph.deps) {
    const body = deps.length === 0 ? "Bench work." : `Bench work.\nblocked-by: ${deps.map((d) => `#${String(d)}`).join(", ")}`;
    await writeFile(path.join(projectDir, ".cspace", "issues", `${String(issue)}.md`), `---\ntitle: "Issue ${String(issue)}"\nstate: open\n---\n\n${body}\n`);
  }
  await writeFile(path.join(projectDir, "README.md"), "hello\n");
  await git(root, ["init", "--quiet", "--bare", "--initial-branch=main", remote]);
  await git(projectDir, ["init", "--quiet", "--initial-branch=main"]);
  await git(projectDir, ["add", "-A"]);
  await git(projectDir, ["commit", "--quiet", "-m", "initial"]);
  await git(projectDir, ["push", "--quiet", remote, "main"]);
  const checkoutOf = (instance: string): string => path.join(root, "workspaces", instance);
  const mover = createGitBranchMover({ remote: localRemote(projectDir, "../remote.git"), store: path.join(root, "store.git"), scratchDir: path.join(root, "scratch"), checkoutOf });
  const commit = async (launch: LaunchRequest): Promise<string> => {
    const checkout = checkoutOf(launch.instance);
    await mkdir(checkout, { recursive: true });
    await git(checkout, ["init", "--quiet"]);
    await git(checkout, ["fetch", "--quiet", remote, "+refs/heads/*:refs/remotes/origin/*"]);
    const parent = launch.headSha ?? (await git(checkout, ["rev-parse", `refs/remotes/origin/${launch.base}`]));
    const index = { GIT_INDEX_FILE: path.join(checkout, ".git", "bench-index") };
    await git(checkout, ["read-tree", parent], { env: index });
    const blob = await git(checkout, ["hash-object", "-w", "--stdin"], { input: `attempt ${String(launch.attempt)}\n` });
    await git(checkout, ["update-index", "--add", "--cacheinfo", `100644,${blob},src/issue-${String(launch.issue)}.txt`], { env: index });
    const tree = await git(checkout, ["write-tree"], { env: index });
    const sha = await git(checkout, ["commit-tree", tree, "-p", parent, "-m", `#${String(launch.issue)}: work`]);
    await git(checkout, ["update-ref", `refs/heads/${launch.branch}`, sha]);
    return sha;
  };
  const pool = new StampedPool(new FakeWorkerPool({ commit, agentMsOf: (launch) => graph.durations.get(launch.issue) ?? 0 }));
  return { pool, projectDir, ports: { runtime: () => new FakeContainerRuntime(), branches: () => mover, workers: () => pool } };
}
