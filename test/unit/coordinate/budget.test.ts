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
