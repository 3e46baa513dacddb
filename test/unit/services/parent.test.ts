import { describe, expect, it } from "vitest";
import { UserError } from "../../../src/core/errors.ts";
import { planIssues } from "../../../src/services/plan.ts";
import { FakeForge } from "../../fakes/forge.ts";
import { issue } from "../../fakes/issues.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";

const tempDir = useTempDirs("plan-parent");

/** #40 is an epic of 41, 43 (closed) and 44 (blocked by 41); #42 stands alone; #45 is another epic's. */
function epicForge(): FakeForge {
  return new FakeForge().addIssues([
    issue(40, { title: "Checkout epic" }),
    issue(41, { parent: 40 }),
    issue(42),
    issue(43, { parent: 40, state: "closed" }),
    issue(44, { parent: 40, deps: [41] }),
    issue(45, { parent: 42 }),
  ]);
}

async function plan(forge: FakeForge, parent: number, numbers: readonly number[] = []) {
  return planIssues({ cwd: await tempDir(), env: {}, numbers, parent, ports: { forge: () => forge } });
}

describe("plan --parent (and coordinate --parent, which selects the same way)", () => {
  it("takes exactly the parent's sub-issues, a closed one as merged, never the parent itself", async () => {
    const { plan: planned } = await plan(epicForge(), 40);
    expect(planned.issues.map((i) => [i.number, i.action])).toEqual([[41, "launch"], [43, "merged"], [44, "wait"]]);
  });

  it("adds issues named beside the parent", async () => {
    const { plan: planned } = await plan(epicForge(), 40, [42]);
    expect(planned.issues.map((i) => i.number)).toEqual([41, 42, 43, 44]);
  });

  it("refuses an unknown parent and a parent without sub-issues, as user errors saying which", async () => {
    const unknown = plan(epicForge(), 99);
    await expect(unknown).rejects.toBeInstanceOf(UserError);
    await expect(unknown).rejects.toThrow(/--parent 99: there is no issue #99/);
    const childless = plan(epicForge(), 41);
    await expect(childless).rejects.toBeInstanceOf(UserError);
    await expect(childless).rejects.toThrow(/--parent 41: issue #41 has no sub-issues/);
  });
});
