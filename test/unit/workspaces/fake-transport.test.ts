import { describe, expect, it } from "vitest";
import { MIRROR_IN_CONTAINER } from "../../../src/core/workspaces/transport.ts";
import { FakeWorkspaceTransport } from "../../fakes/workspace-transport.ts";

// The fake WorkspaceTransport refuses what the real one refuses
// (test/docker/workspace-transport.test.ts, test/hostile/collect-branch.test.ts),
// so a service tested on it cannot lean on something the real one would not do.

const BASE = "a".repeat(40);
const WORK = "b".repeat(40);

describe("FakeWorkspaceTransport", () => {
  it("checks out only what was pushed to the host's mirror, and collects what the worker committed", async () => {
    const transport = new FakeWorkspaceTransport("big", "p1");
    await expect(transport.pushRefs([{ name: "main", sha: BASE }])).rejects.toThrow(/was not prepared/);
    await transport.prepareHost();
    await expect(transport.checkout("c1", { instance: "issue-12", branch: "issue-12", commit: BASE, path: "/workspaces/app", user: "node" })).rejects.toThrow(/does not have it/);
    await transport.pushRefs([{ name: "main", sha: BASE }]);
    await transport.checkout("c1", { instance: "issue-12", branch: "issue-12", commit: BASE, path: "/workspaces/app", user: "node" });
    transport.commitInWorker("c1", "issue-12", WORK);
    expect(await transport.collect("c1", { instance: "issue-12", path: "/workspaces/app", branch: "issue-12", user: "node" })).toMatchObject({ sha: WORK, ref: "refs/cspace/collected/issue-12" });
    await expect(transport.collect("c1", { instance: "issue-12", path: "/workspaces/app", branch: "issue-13", user: "node" })).rejects.toThrow(/has no branch issue-13/);
  });

  it("mounts the mirror read-only and the instance's own checkout volume", () => {
    const mounts = new FakeWorkspaceTransport("big", "p1").mountsFor("issue-12", "/workspaces/app");
    expect(mounts.map((m) => [m.Target, m.ReadOnly, m.VolumeOptions?.Shared === true])).toEqual([
      [MIRROR_IN_CONTAINER, true, true],
      ["/workspaces/app", false, false],
    ]);
  });
});
