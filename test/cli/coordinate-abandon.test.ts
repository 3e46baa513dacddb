import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { openSqliteEventStore } from "../../src/adapters/store/sqlite-event-store.ts";
import { openProject } from "../../src/services/project.ts";
import { runCli } from "../support/cli.ts";
import { useTempDirs } from "../support/temp-dirs.ts";

const tempDir = useTempDirs("abandon-cli");

/**
 * A project whose coordinator.db holds an unfinished run with the malformed
 * report of issue 12 in it, as a coordinator before the fix recorded it.
 * No engine anywhere: status and --abandon read and write the log only.
 */
async function poisonedProject(): Promise<{ dir: string; env: NodeJS.ProcessEnv; runId: string; seq: number }> {
  const dir = await tempDir();
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "abandon-cli" }, forge: { type: "local" } }));
  const env = { CSPACE_RUN_DIR: path.join(dir, "run"), CSPACE_DATA_DIR: path.join(dir, "data"), DOCKER_HOST: `unix://${dir}/no-engine.sock` };
  const project = await openProject({ cwd: dir, env });
  const store = await openSqliteEventStore(path.join(env.CSPACE_DATA_DIR, project.projectId, "coordinator.db"));
  try {
    const at = new Date("2026-05-01T10:00:00.000Z");
    const runId = await store.startRun({ selected: [1] }, at);
    const settings = { featureBranch: "main", maxParallel: 1, maxAttempts: 2, review: false, stacking: true, verify: { all: null, e2e: null } };
    const seqs = await store.append(runId, [
      { type: "RunStarted", at, data: { runId, selected: [1], graph: { nodes: [{ number: 1, dependencies: [], external: [] }], order: [1] }, settings } },
      { type: "IssuesLoaded", at, data: { issues: [{ number: 1, title: "Add a greeting", state: "open", url: null }], external: [] } },
      { type: "Reported", at, data: { issue: 1, attempt: 1, report: { id: "x", outcome: "bogus" } } },
    ]);
    return { dir, env, runId, seq: seqs[2] ?? 0 };
  } finally {
    await store.close();
  }
}

describe("cspace status and coordinate --abandon on a log with an event that cannot be applied", () => {
  it("status shows the run and names the event by its seq with the way out; --abandon ends the run and status still shows it", async () => {
    const { dir, env, runId, seq } = await poisonedProject();
    const status = runCli(["status"], { cwd: dir, env });
    expect(status.stderr).toBe("");
    expect(status.status).toBe(0);
    expect(status.stdout).toContain(`Run ${runId}`);
    expect(status.stdout).toContain(`Problem: event #${String(seq)} (Reported) cannot be applied: Reported.report.instance`);
    expect(status.stdout).toContain("cspace coordinate --abandon");

    const abandoned = runCli(["coordinate", "--abandon"], { cwd: dir, env });
    expect(abandoned.stderr).toBe("");
    expect(abandoned.status).toBe(0);
    expect(abandoned.stdout).toContain(`Run ${runId} abandoned`);

    const after = runCli(["status"], { cwd: dir, env });
    expect(after.status).toBe(0);
    expect(after.stdout).toContain("Abandoned: abandoned by the operator (cspace coordinate --abandon).");
    expect(after.stdout).toContain(`Problem: event #${String(seq)} (Reported)`);
    expect(after.stdout).not.toContain("cannot be resumed");

    const again = runCli(["coordinate", "--abandon"], { cwd: dir, env });
    expect(again.status).toBe(2);
    expect(again.stderr).toContain("has already finished");
  });

  it("--abandon with issue numbers is refused (exit 2): it only ends the latest run", async () => {
    const { dir, env } = await poisonedProject();
    const result = runCli(["coordinate", "--abandon", "12"], { cwd: dir, env });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("--abandon takes no issue numbers");
  });

  it("--help says what --abandon does", () => {
    const help = runCli(["coordinate", "--help"]);
    expect(help.stdout).toMatch(/--abandon\s+end the latest unfinished run/);
  });
});
