import { performance } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { repoRoot } from "../support/cli.ts";
import { WORKSPACE, transportWorld, type TransportWorld } from "../support/transport-world.ts";

/**
 * The workspace transport for a host that shares no filesystem with cspace:
 * this repository's history pushed into the host's mirror over the exec
 * stream, two workers checking out from it, and a worker's commits
 * collected back into a quarantine on this machine, the store untouched.
 */

const runId = inject("cspaceTestRun");
let world: TransportWorld;
let base = "";

beforeAll(async () => {
  world = await transportWorld(runId, repoRoot);
  base = (await world.git(world.store, ["rev-parse", "HEAD"])).trim();
}, 600_000);

afterAll(async () => {
  await world.remove();
});

/** Objects a bare repository holds, loose and packed, not counting its alternates. */
async function objectCount(repository: string): Promise<number> {
  const counts = Object.fromEntries(
    (await world.git(repository, ["count-objects", "-v"])).split("\n").map((line) => line.split(": ") as [string, string]),
  ) as Record<string, string>;
  return Number(counts.count) + Number(counts["in-pack"]);
}

describe("the workspace transport on a host without a shared filesystem", () => {
  it("fills the mirror, checks out in two workers, and collects a worker's commits into the quarantine only", async () => {
    const fillStart = performance.now();
    await world.transport.prepareHost();
    const keeperMs = performance.now() - fillStart;
    await world.transport.pushRefs([{ name: "main", sha: base }]);
    const fillMs = performance.now() - fillStart;
    // A push the mirror needs nothing of (a launch whose base is there already) costs one exec and a ref advertisement.
    const againStart = performance.now();
    await world.transport.pushRefs([{ name: "main", sha: base }]);
    const againMs = performance.now() - againStart;

    const { id: first, checkoutMs: firstMs } = await world.worker("w1", "issue-1", base);
    const { id: second, checkoutMs: secondMs } = await world.worker("w2", "issue-2", base);
    console.log(
      `workspace transport: mirror filled with this repository in ${fillMs.toFixed(0)} ms (keeper made and started ${keeperMs.toFixed(0)} ms); ` +
        `a push with nothing to send ${againMs.toFixed(0)} ms; ` +
        `checkout: first worker ${(fillMs + firstMs).toFixed(0)} ms with the fill (${firstMs.toFixed(0)} ms alone), second ${secondMs.toFixed(0)} ms`,
    );

    // Each worker: its own branch at the base, owned by its user, origin the mirror, a clean tree.
    for (const [worker, branch] of [
      [first, "issue-1"],
      [second, "issue-2"],
    ] as const) {
      expect(await world.sh(worker, "git rev-parse --abbrev-ref HEAD; git rev-parse HEAD; stat -c %u .git; git remote get-url origin; git status --porcelain | wc -l")).toBe(
        `${branch}\n${base}\n1000\n/var/lib/cspace/store.git\n0\n`,
      );
    }
    // origin works as locally: the agent fetches a base cspace pushed later.
    expect(await world.sh(first, "git fetch --quiet origin && git rev-parse origin/main")).toBe(`${base}\n`);

    const storeRefs = await world.git(world.store, ["for-each-ref"]);
    const storeObjects = await objectCount(world.store);

    await world.sh(first, "echo one > agent-one.txt && git add agent-one.txt && git commit --quiet -m 'agent: one'");
    const head1 = (await world.sh(first, "git rev-parse HEAD")).trim();
    const collected = await world.transport.collect(first, { instance: "w1", path: WORKSPACE, branch: "issue-1", user: "1000:1000" });
    expect(collected.sha).toBe(head1);
    expect(collected.ref).toBe("refs/cspace/collected/issue-1");
    expect(await world.git(collected.repository, ["for-each-ref", "--format=%(refname) %(objectname)"])).toBe(
      `refs/cspace/collected/issue-1 ${head1}\nrefs/heads/issue-1 ${head1}\n`,
    );
    // Only the new commit, its tree and its blob travelled and are stored (with, at most, the bases index-pack appends to a
    // thin pack's deltas): thousands of objects of history stay in the store, the quarantine's alternate.
    const firstCount = await objectCount(collected.repository);
    expect(firstCount).toBeGreaterThanOrEqual(3);
    expect(firstCount).toBeLessThanOrEqual(6);
    expect(storeObjects).toBeGreaterThan(1000);
    for (const object of [head1, `${head1}^{tree}`, `${head1}:agent-one.txt`]) await world.git(collected.repository, ["cat-file", "-e", object]);
    expect(await world.git(collected.repository, ["log", "--format=%s", "-1", "refs/heads/issue-1"])).toBe("agent: one\n");
    expect(await world.git(world.store, ["for-each-ref"])).toBe(storeRefs);
    expect(await objectCount(world.store)).toBe(storeObjects);

    await world.sh(first, "echo two > agent-two.txt && git add agent-two.txt && git commit --quiet -m 'agent: two'");
    const head2 = (await world.sh(first, "git rev-parse HEAD")).trim();
    const again = await world.transport.collect(first, { instance: "w1", path: WORKSPACE, branch: "issue-1", user: "1000:1000" });
    expect(again.sha).toBe(head2);
    // A follow-up collect brings only what came after the first one: three more objects, in fewer bytes.
    const added = (await objectCount(again.repository)) - firstCount;
    expect(added).toBeGreaterThanOrEqual(3);
    expect(added).toBeLessThanOrEqual(6);
    console.log(`workspace transport: first collect ${String(collected.bytes)} bytes from the worker, follow-up ${String(again.bytes)} bytes`);
    expect(await world.git(world.store, ["for-each-ref"])).toBe(storeRefs);

    // The other worker saw none of it.
    expect(await world.sh(second, "git rev-parse HEAD; ls agent-one.txt 2>/dev/null | wc -l")).toBe(`${base}\n0\n`);
  });
});
