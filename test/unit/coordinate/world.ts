import type { BranchMover } from "../../../src/core/branches/port.ts";
import { forgeMover } from "../../fakes/forge-commits.ts";
import { FakeContainerRuntime } from "../../fakes/container-runtime.ts";
import type { LaunchRequest } from "../../../src/core/coordinator-runtime/ports.ts";
import { FakeEventStore, FakeCoordinatorLock } from "../../fakes/event-store.ts";
import { FakeForge } from "../../fakes/forge.ts";
import { issuesFrom } from "../../fakes/issues.ts";
import { FakeOperatorChannel } from "../../fakes/operator-channel.ts";
import { FakeWorkerPool, type FakeWorkerScript } from "../../fakes/worker-pool.ts";
import type { PortOverrides } from "../../../src/services/project.ts";

/**
 * One coherent in-memory world for the coordinator's shell: a FakeForge
 * (issues, branches, pull requests, squash merges), a BranchMover over that
 * same forge (each worker's checkout is a head the agent commits on; each
 * issue writes its own file, so a restack replays that file onto the new
 * base), and a FakeWorkerPool whose agents commit through it.
 */
export class CoordinatorWorld {
  readonly forge = new FakeForge({ defaultBranch: "main" });
  readonly store = new FakeEventStore();
  readonly lock = new FakeCoordinatorLock();
  readonly runtime = new FakeContainerRuntime();
  readonly checkouts = new Map<string, string>();
  readonly mover: BranchMover;
  readonly workers: FakeWorkerPool;
  readonly operator = new FakeOperatorChannel();
  #made = 0;

  /** `agentMs`: how long each agent works (2 ms unless a test needs time to act while one works). */
  constructor(
    deps: Readonly<Record<number, readonly number[]>>,
    scripts: Readonly<Record<number, FakeWorkerScript>> = {},
    options: { readonly agentMs?: number; readonly agentMsOf?: (launch: LaunchRequest) => number; readonly interruptStops?: boolean } = {},
  ) {
    this.forge.addIssues(issuesFrom(deps));
    void this.forge.seed.commit("main", { "README.md": "hello\n" }, "initial");
    this.workers = new FakeWorkerPool({ scripts, commit: (launch) => this.#agentCommit(launch), agentMs: options.agentMs ?? 2,
      ...(options.agentMsOf === undefined ? {} : { agentMsOf: options.agentMsOf }),
      interruptStops: options.interruptStops ?? false,
    });
    this.mover = this.#mover();
  }

  ports(): PortOverrides {
    return {
      // The fake pool never uses the engine; the run only checks it answers.
      runtime: () => this.runtime,
      forge: () => this.forge,
      eventStore: () => this.store,
      coordinatorLock: () => this.lock,
      branches: () => this.mover,
      workers: () => this.workers,
      operator: () => this.operator,
    };
  }

  get merged(): Set<number> {
    return new Set(this.forge.callsOf("squashMerge").map((args) => args[0] as number));
  }

  async #agentCommit(launch: LaunchRequest): Promise<string> {
    const from = launch.headSha ?? (await this.forge.branchHead(launch.base)) ?? undefined;
    const sha = await this.forge.seed.commit(`ws/${launch.instance}/${String(++this.#made)}`, { [`src/issue-${String(launch.issue)}.txt`]: `attempt ${String(launch.attempt)}\n` }, `#${String(launch.issue)}: work`, from);
    this.checkouts.set(launch.instance, sha);
    return sha;
  }

  #mover(): BranchMover {
    return forgeMover(this.forge, {
      checkouts: this.checkouts,
      restackCommit: (request) => {
        const issue = request.branch.replace("issue-", "");
        return this.forge.seed.commit(`rs/${request.branch}/${String(++this.#made)}`, { [`src/issue-${issue}.txt`]: `restacked\n` }, `${request.branch}: restacked`, request.onto);
      },
    });
  }
}
