import { describe, expect, it } from "vitest";
import type { VerifyLanding } from "../../../src/core/coordinator/actions.ts";
import type { CoordinatorEvent } from "../../../src/core/coordinator/events.ts";
import { executeWorldAction } from "../../../src/services/coordinate/execute.ts";
import { FakeBranchMover } from "../../fakes/branch-mover.ts";
import { FakeWorkerPool } from "../../fakes/worker-pool.ts";
import { recordingContext } from "../../support/execution-context.ts";

/**
 * A landing verification as the runtime executes it (services/coordinate/execute.ts),
 * against the fake branch mover's whole-file commits: a head that already
 * sits on the feature branch's tip lands as its own tree, which its own
 * verification covered; any other head, or a car behind others, is verified.
 */

const FEATURE = "feature/login";
const AT = "2030-01-01T00:00:00.000Z";

function run(mover: FakeBranchMover, action: VerifyLanding): Promise<{ recorded: CoordinatorEvent[]; workers: FakeWorkerPool }> {
  const workers = new FakeWorkerPool({ commit: () => Promise.resolve("") });
  const context = recordingContext(mover, workers, AT);
  return executeWorldAction(context, action).then(() => ({ recorded: context.recorded, workers }));
}

const landing = (issue: number, headSha: string, ahead: VerifyLanding["ahead"] = []): VerifyLanding => ({
  type: "VerifyLanding", issue, instance: `issue-${String(issue)}`, headSha, base: FEATURE, epoch: 1, ahead, since: null, commands: ["npm test"],
});

describe("verifying the tree that would land", () => {
  it("takes a head that sits on the tip (restacked onto its parent's squash) as verified: its tree is the branch's own", async () => {
    const mover = new FakeBranchMover();
    const f0 = mover.remoteCommit(FEATURE, { "src/app.ts": "hi\n" }, "initial");
    const squash = mover.remoteCommit(FEATURE, { "src/app.ts": "hello\n" }, "#10 (squash)", f0);
    const restacked = mover.remoteCommit("issue-12", { "src/app.ts": "hello\n", "src/session.ts": "s\n" }, "#12 on #10's squash", squash);
    const { recorded, workers } = await run(mover, landing(12, restacked));
    expect(workers.verifies).toEqual([]);
    expect(recorded).toMatchObject([{ type: "LandingVerified", issue: 12, headSha: restacked, baseSha: squash, branchTree: true }]);
    expect(recorded[0]?.type === "LandingVerified" ? recorded[0].tree : null).toBe(await mover.treeOf(restacked));
  });

  it("verifies a head made on an older tip, and a car behind others, in the worker, detached", async () => {
    const mover = new FakeBranchMover();
    const f0 = mover.remoteCommit(FEATURE, { "src/app.ts": "hi\n" }, "initial");
    const h11 = mover.remoteCommit("issue-11", { "src/cart.ts": "c\n" }, "#11", f0);
    const h12 = mover.remoteCommit("issue-12", { "src/session.ts": "s\n" }, "#12", f0);
    mover.remoteCommit(FEATURE, { "src/app.ts": "hello\n" }, "#10 (squash)", f0);
    const older = await run(mover, landing(12, h12));
    expect(older.workers.verifies).toMatchObject([{ issue: 12, detached: true }]);
    expect(older.recorded).toMatchObject([{ type: "LandingVerified", issue: 12 }]);
    expect(older.recorded[0]).not.toHaveProperty("branchTree");
    const behind = await run(mover, landing(12, h12, [{ issue: 11, headSha: h11 }]));
    expect(behind.workers.verifies).toHaveLength(1);
    expect(behind.recorded).toMatchObject([{ type: "LandingVerified", issue: 12, ahead: [{ issue: 11, headSha: h11 }] }]);
  });
});
