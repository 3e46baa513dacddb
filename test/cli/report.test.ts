import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openSqliteEventStore } from "../../src/adapters/store/sqlite-event-store.ts";
import { encodeEvent } from "../../src/core/coordinator/codec.ts";
import type { RunReport } from "../../src/core/coordinator/report.ts";
import { simulate, type SimulationPlan } from "../../src/core/coordinator/simulate.ts";
import { openProject } from "../../src/services/project.ts";
import { runCli } from "../support/cli.ts";
import { useTempDirs } from "../support/temp-dirs.ts";

const tempDir = useTempDirs("report-cli");

/**
 * A project whose coordinator.db holds finished runs, each the log of a
 * simulated run (the events a coordinator records) under the run id the store
 * gave it. No engine anywhere: `cspace report` reads the log only.
 */
async function projectWithRuns(plans: readonly SimulationPlan[]): Promise<{ dir: string; env: NodeJS.ProcessEnv; runIds: string[] }> {
  const dir = await tempDir();
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "report-cli" }, forge: { type: "local" } }));
  const env = { CSPACE_RUN_DIR: path.join(dir, "run"), CSPACE_DATA_DIR: path.join(dir, "data"), DOCKER_HOST: `unix://${dir}/no-engine.sock` };
  const project = await openProject({ cwd: dir, env });
  const store = await openSqliteEventStore(path.join(env.CSPACE_DATA_DIR, project.projectId, "coordinator.db"));
  const runIds: string[] = [];
  try {
    for (const [index, plan] of plans.entries()) {
      const runId = await store.startRun({ selected: Object.keys(plan.issues).map(Number) }, new Date(Date.UTC(2026, 4, 1 + index)));
      const { events } = simulate(plan);
      await store.append(runId, events.map((event) => encodeEvent(event.type === "RunStarted" ? { ...event, runId } : event)));
      runIds.push(runId);
    }
  } finally {
    await store.close();
  }
  return { dir, env, runIds };
}

describe("cspace report (the built binary)", () => {
  it("prints the latest run's table, where the time went and the review; --run shows an older one", async () => {
    const { dir, env, runIds } = await projectWithRuns([
      { issues: { 1: [] } },
      { issues: { 12: [], 13: [12] }, settings: { stacking: false, maxAttempts: 1 }, scripts: { 13: { attempts: ["crash"] } } },
    ]);
    const latest = runCli(["report"], { cwd: dir, env });
    expect(latest.stderr).toBe("");
    expect(latest.status).toBe(0);
    expect(latest.stdout).toContain(`Run ${runIds[1] ?? ""} into feature/sim`);
    expect(latest.stdout).toMatch(/^#13 +- +feature\/sim +failed: 1 of 1 attempts failed/m);
    expect(latest.stdout).toMatch(/^Wall time: \d+s\.$/m);
    expect(latest.stdout).toMatch(/^issue +in run +working +dependencies +slot +starting +parked +verifying +to merge$/m);
    expect(latest.stdout).toContain("Critical path (what set the finish time):");
    expect(latest.stdout).toMatch(/^ {2}1\. #12 Issue 12: started \+\d+s, merged \+\d+s/m);
    expect(latest.stdout).toMatch(/^ {2}2\. #13 Issue 13: waited \d+s on #12; started \+\d+s, failed \+\d+s/m);
    expect(latest.stdout).toContain("What went wrong:");
    expect(latest.stdout).toMatch(/^ {2}- #13 failed: 1 of 1 attempts failed; the last: the agent was killed by SIGKILL \(\+\d+s\)$/m);
    expect(latest.stdout).toContain("What would have helped:");

    const older = runCli(["report", "--run", runIds[0] ?? ""], { cwd: dir, env });
    expect(older.status).toBe(0);
    expect(older.stdout).toContain(`Run ${runIds[0] ?? ""} into feature/sim`);
    expect(older.stdout).not.toContain("#13");
  });

  it("--json prints the RunReport with the time splits and the review", async () => {
    const { dir, env, runIds } = await projectWithRuns([{ issues: { 12: [], 13: [12] }, settings: { stacking: false } }]);
    const result = runCli(["report", "--json"], { cwd: dir, env });
    expect(result.status).toBe(0);
    const report = JSON.parse(result.stdout) as RunReport;
    expect(report.runId).toBe(runIds[0]);
    expect(report.rows.map((row) => [row.issue, row.status])).toEqual([[12, "merged"], [13, "merged"]]);
    const thirteen = report.rows[1]?.time;
    expect(thirteen?.dependenciesMs).toBeGreaterThan(0);
    expect(report.review?.criticalPath.map((step) => step.issue)).toEqual([12, 13]);
  });

  it("an unknown --run is a user error (exit 2) that lists the recent runs", async () => {
    const { dir, env, runIds } = await projectWithRuns([{ issues: { 1: [] } }, { issues: { 2: [] } }]);
    const result = runCli(["report", "--run", "no-such-run"], { cwd: dir, env });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("there is no run no-such-run in this project");
    expect(result.stderr).toContain(`recent runs, newest first: ${runIds[1] ?? ""}, ${runIds[0] ?? ""}`);
  });

  it("says so when the project has no run yet", async () => {
    const { dir, env } = await projectWithRuns([]);
    const result = runCli(["report"], { cwd: dir, env });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe("No coordinator run yet: cspace coordinate <issues…> starts one.\n");
  });
});
