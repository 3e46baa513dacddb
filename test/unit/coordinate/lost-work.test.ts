import { describe, expect, it } from "vitest";
import { WorkerGoneError } from "../../../src/core/coordinator-runtime/ports.ts";
import { executeWorldAction } from "../../../src/services/coordinate/execute.ts";
import { collectBranch, type CollectClock, type CollectContext } from "../../../src/services/coordinate/pool/collect.ts";
import { HostUnreachableError } from "../../../src/services/coordinate/pool/remote-workers.ts";
import { FakeBranchMover } from "../../fakes/branch-mover.ts";
import { FakeWorkerPool } from "../../fakes/worker-pool.ts";
import { recordingContext } from "../../support/execution-context.ts";

/**
 * A remote worker's reported branch that must come back over its host
 * (pool/collect.ts): while the host is silent the collect waits for it, up
 * to workers.lostAfterSeconds from when it went silent; after that the branch
 * is lost with it, and the runtime records so instead of failing the push
 * (execute.ts), so the issue is relaunched where a host answers.
 */

const COLLECTED = { repository: "/quarantine/issue-4.git", sha: "c0ffee" };

/** A clock that moves only when waited on. */
function fakeClock(start: number): CollectClock & { waited: number[] } {
  let now = start;
  const waited: number[] = [];
  return {
    waited,
    now: () => now,
    wait: (ms, signal) => {
      if (signal?.aborted === true) return Promise.reject(new Error("aborted"));
      waited.push(ms);
      now += ms;
      return Promise.resolve();
    },
  };
}

/** A host that answers after `silentAsks` questions (or never), silent since `since`; `collects` fail with `collectError` while it is set. */
function hostOf(options: { since: number; silentAsks: number; collectError?: Error }): CollectContext<string> & { collects: number } {
  let asks = 0;
  const context = {
    collects: 0,
    lostAfterSeconds: 60,
    remote: {
      of: (instance: string): Promise<string | null> => {
        asks++;
        return asks <= options.silentAsks ? Promise.reject(new HostUnreachableError("b", options.since, new Error("connect ECONNREFUSED"))) : Promise.resolve(instance);
      },
      collect: (): Promise<typeof COLLECTED> => {
        context.collects++;
        return options.collectError === undefined ? Promise.resolve(COLLECTED) : Promise.reject(options.collectError);
      },
    },
  };
  return context;
}

describe("collecting a remote worker's branch while its host is silent", () => {
  it("waits for a host that comes back within workers.lostAfterSeconds, then collects", async () => {
    const clock = fakeClock(1_000_000);
    const host = hostOf({ since: 1_000_000, silentAsks: 3 });
    const said: string[] = [];
    await expect(collectBranch(host, "issue-4", "issue-4", { waiting: (text) => said.push(text) }, clock)).resolves.toEqual(COLLECTED);
    expect(host.collects).toBe(1);
    expect(clock.waited).toHaveLength(3);
    // Said once when the wait starts, once when it ends: a push that takes long says why.
    expect(said).toEqual([
      "issue-4's branch issue-4 waits for its host to answer (host b does not answer: connect ECONNREFUSED); it is given up as lost after 60 s of silence (workers.lostAfterSeconds)",
      "host b answers again: issue-4's branch issue-4 is collected",
    ]);
  });

  it("gives the branch up once the host has been silent for workers.lostAfterSeconds, naming the host", async () => {
    const clock = fakeClock(1_000_000);
    const host = hostOf({ since: 1_000_000 - 50_000, silentAsks: Number.POSITIVE_INFINITY });
    const said: string[] = [];
    const error = await collectBranch(host, "issue-4", "issue-4", { waiting: (text) => said.push(text) }, clock).catch((caught: unknown) => caught);
    expect(said).toHaveLength(1);
    expect(error).toBeInstanceOf(WorkerGoneError);
    expect((error as Error).message).toMatch(/^host b has not answered for 60 s \(workers\.lostAfterSeconds is 60\): issue-4 was not collected from it$/);
    // Counted from the collect's own first try: an older record of silence (the host may have answered since) does not
    // cut the wait short, for the branch is all there is of that work.
    expect(clock.waited.reduce((sum, ms) => sum + ms, 0)).toBe(60_000);
    expect(host.collects).toBe(0);
  });

  it("fails a collect as it is while the host answers (the runtime retries it), and asks a host gone mid-collect again", async () => {
    const refused = new Error("the worker's branch issue-4 is not a branch");
    await expect(collectBranch(hostOf({ since: 0, silentAsks: 0, collectError: refused }), "issue-4", "issue-4", {}, fakeClock(0))).rejects.toBe(refused);
    // Null for a worker on this machine: the branch mover reads its checkout.
    const here: CollectContext<string> = { lostAfterSeconds: 60, remote: { of: () => Promise.resolve(null), collect: () => Promise.reject(new Error("not remote")) } };
    await expect(collectBranch(here, "issue-4", "issue-4", {}, fakeClock(0))).resolves.toBeNull();
  });

  it("stops waiting when the push is no longer wanted", async () => {
    const stop = new AbortController();
    stop.abort(new Error("skipped"));
    await expect(collectBranch(hostOf({ since: 0, silentAsks: Number.POSITIVE_INFINITY }), "issue-4", "issue-4", { signal: stop.signal }, fakeClock(0))).rejects.toThrow("aborted");
  });
});

describe("a push whose branch is gone with its host", () => {
  it("records the work as lost instead of failing the push, and pushes nothing", async () => {
    const mover = new FakeBranchMover();
    const workers = Object.assign(new FakeWorkerPool({ commit: () => Promise.resolve("") }), {
      collect: () => Promise.reject(new WorkerGoneError("host b has not answered for 61 s")),
    });
    const context = recordingContext(mover, workers, "2030-01-01T00:00:00.000Z");
    await executeWorldAction(context, { type: "Push", issue: 4, branch: "issue-4", headSha: "h4-1", expectedSha: "base", force: false });
    expect(context.recorded).toEqual([{ type: "ReportedWorkLost", at: "2030-01-01T00:00:00.000Z", issue: 4, headSha: "h4-1", reason: "host b has not answered for 61 s" }]);
    expect(mover.calls.map((call) => call.method)).not.toContain("push");
  });
});
