import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { CoordinatorEvent } from "../../../src/core/coordinator/events.ts";
import type { CoordinatorProgress } from "../../../src/core/coordinator-runtime/progress.ts";
import { coordinate } from "../../../src/services/coordinate/coordinate.ts";
import { runStatus, type RunStatus } from "../../../src/services/coordinate/run-status.ts";
import { makeProject, type TempProject } from "../../support/temp-project.ts";
import { CoordinatorWorld } from "./world.ts";

/** A run that spent coordinator.budget.run starts no agent, says so, and goes on when the operator raises the budget in the file and resumes. */

const projects: TempProject[] = [];
afterEach(async () => {
  for (const project of projects.splice(0)) await project.remove();
});

const config = (run: number) => ({ project: { name: "budget" }, forge: { type: "local" }, coordinator: { maxParallel: 1, stacking: false, budget: { run } } });

describe("coordinator.budget.run", () => {
  it("holds launches once spent, in status too, and re-reads the configuration on resume", async () => {
    // Each fake agent reports $0.25: after #10 the run has spent more than $0.20.
    const project = await makeProject({ config: config(0.2) });
    projects.push(project);
    const world = new CoordinatorWorld({ 10: [], 11: [] });
    const env = { CSPACE_RUN_DIR: `${project.dir}/run` };
    const events: CoordinatorEvent[] = [];
    const seen: { held?: RunStatus } = {};
    const onProgress = (progress: CoordinatorProgress): void => {
      if (progress.kind !== "event") return;
      events.push(progress.event);
      if (progress.event.type === "Reported" && progress.event.issue === 10) {
        void (async () => {
          const otherTerminal = { ...world.ports(), eventStore: () => world.store.anotherHandle() };
          seen.held = await runStatus({ cwd: project.dir, env, ports: otherTerminal });
          await writeFile(path.join(project.dir, ".cspace.json"), JSON.stringify(config(10)));
          await world.operator.send("resume");
        })();
      }
    };
    const result = await coordinate({ cwd: project.dir, env, numbers: [10, 11], ports: world.ports(), onProgress, probeIntervalMs: 50, retryDelayMs: 10 });

    expect(result.exitCode).toBe(0);
    expect(seen.held?.report?.overBudget).toBe("the run spent $0.25 of its $0.20 budget: no agent starts until coordinator.budget.run is raised and the run resumed (cspace send _coordinator resume)");
    const budgets = events.flatMap((event) => (event.type === "BudgetSet" ? [event.run] : []));
    expect(budgets).toEqual([0.2, 10]);
    const index = (match: (event: CoordinatorEvent) => boolean): number => events.findIndex(match);
    expect(index((e) => e.type === "Launched" && e.issue === 11)).toBeGreaterThan(index((e) => e.type === "BudgetSet" && e.run === 10));
  }, 30_000);

});

describe("coordinator.budget.issue", () => {
  it("stops an agent whose running spend passes the issue's budget: the issue fails with the reason, its spend counted once", async () => {
    const project = await makeProject({ config: { project: { name: "budget" }, forge: { type: "local" }, coordinator: { maxParallel: 2, stacking: false, budget: { issue: 2 } } } });
    projects.push(project);
    // #10's agent never ends by itself; #11's does, and merges.
    const world = new CoordinatorWorld({ 10: [], 11: [] }, {}, { agentMsOf: (launch) => (launch.issue === 10 ? 3_600_000 : 2), interruptStops: true });
    const events: CoordinatorEvent[] = [];
    const onProgress = (progress: CoordinatorProgress): void => {
      if (progress.kind !== "event") return;
      events.push(progress.event);
      // What #10's supervisor says while its agent works: $0.90 after its first turn, $2.40 after its second.
      if (progress.event.type === "Launched" && progress.event.issue === 10) world.workers.spend("issue-10", 1, 0.9);
      if (progress.event.type === "Spending" && progress.event.costUsd === 0.9) world.workers.spend("issue-10", 2, 2.4);
    };
    const result = await coordinate({ cwd: project.dir, env: { CSPACE_RUN_DIR: `${project.dir}/run` }, numbers: [10, 11], ports: world.ports(), onProgress, probeIntervalMs: 50, retryDelayMs: 10 });

    expect(result.exitCode).toBe(1);
    expect(events).toContainEqual(expect.objectContaining({ type: "Failed", issue: 10, reason: "over budget: it spent $2.40 of its $2.00 budget (coordinator.budget.issue); its agent was stopped" }));
    expect(world.workers.interrupted).toEqual(["issue-10"]);
    expect(result.report.rows.map((r) => [r.issue, r.status])).toEqual([[10, "failed"], [11, "merged"]]);
    const row = result.report.rows.find((r) => r.issue === 10);
    // The interrupted report carries what it spent: counted once, not added to the polled figure.
    expect(row?.costUsd).toBe(2.4);
    expect(row?.attempts).toBe(1);
  }, 30_000);
});
