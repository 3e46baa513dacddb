import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { openSqliteEventStore } from "../../src/adapters/store/sqlite-event-store.ts";
import { FileCoordinatorLock } from "../../src/adapters/store/coordinator-lock.ts";
import type { StoredEvent } from "../../src/core/coordinator-store/port.ts";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { binPath, cleanEnv, repoRoot } from "../support/cli.ts";
import { mergedOnce, useForgeProjects } from "../support/coordinate-run.ts";
import { testDocker } from "../support/docker.ts";
import { openTerminal } from "../support/terminal.ts";

/**
 * The dashboard for real: cspace in a pseudo-terminal (tmux), read as a person
 * sees the screen, keys typed into it. Synchronised on the run's event log
 * and on what the screen shows, never on time; judged by the log and the
 * remote's history.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const project = useForgeProjects(runId, docker);

/** Stops the coordinator holding this project data directory's lock: a detached child of the view must not outlive its test. */
async function killCoordinatorOf(projectDataDir: string): Promise<void> {
  const holder = await new FileCoordinatorLock(projectDataDir).holder();
  if (holder !== undefined) process.kill(holder.pid, "SIGKILL");
}

/** Project data directories whose coordinator is stopped after each test. */
const coordinatorsOf: string[] = [];
afterEach(async () => {
  for (const dir of coordinatorsOf.splice(0)) await killCoordinatorOf(dir);
});

/** The project's event log, read as the dashboard reads it. */
async function events(dataDir: string, id: string): Promise<StoredEvent[]> {
  const store = await openSqliteEventStore(path.join(dataDir, id, "coordinator.db"));
  try {
    const latest = await store.latestRun();
    return latest === undefined ? [] : await store.read(latest.runId);
  } finally {
    await store.close();
  }
}

const isEvent = (type: string, issue?: number) => (event: StoredEvent): boolean =>
  event.type === type && (issue === undefined || (typeof event.data === "object" && event.data !== null && !Array.isArray(event.data) && (event.data as Record<string, unknown>).issue === issue));

async function waitForEvent(read: () => Promise<StoredEvent[]>, match: (event: StoredEvent) => boolean, what: string, timeoutMs = 600_000): Promise<StoredEvent> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const all = await read().catch(() => []);
    const found = all.find(match);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`no ${what} in the run's log; it has: ${all.map((e) => e.type).join(", ")}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe("the dashboard in a pseudo-terminal", () => {
  it("cspace demo --issues 10 draws the run in 80 columns until every issue is merged, then prints the report and exits 0", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "cspace-dash-demo-"));
    const dir = path.join(root, "demo");
    const projectIdOf = async (): Promise<string> => {
      const config = JSON.parse(await readFile(path.join(dir, "project", ".cspace.json"), "utf8")) as { project: { name: string } };
      return projectId(config.project.name, path.join(dir, "project"));
    };
    const cleanup = async (): Promise<void> => {
      const id = await projectIdOf().catch(() => null);
      if (id !== null) {
        await killCoordinatorOf(path.join(root, "data", id));
        const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } });
        await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
      }
      await rm(root, { recursive: true, force: true });
    };
    try {
      const term = openTerminal([process.execPath, binPath, "demo", "--issues", "10", "--dir", dir], {
        cwd: repoRoot,
        env: { ...cleanEnv(), CSPACE_RUN_DIR: path.join(root, "run"), CSPACE_DATA_DIR: path.join(root, "data") },
        columns: 80,
      });
      await term.waitForScreen((screen) => screen.includes("↑↓ select · p pause") && /#10 +Validate the settings \(part 2\)/.test(screen), "the dashboard with the demo's ten issues");
      const status = await term.waitForExit();
      const screen = term.screen();
      expect(status, screen.split("\n").slice(-60).join("\n")).toBe(0);
      // The dashboard's last frame stays above the report: all ten merged, the run ended.
      expect(screen).toMatch(/^merged 10 · working 0 · waiting 0 · failed 0 · blocked 0$/m);
      expect(screen).toContain("· run ended");
      expect(screen).toContain("10 merged, 0 failed, 0 blocked");
    } finally {
      await cleanup();
    }
  }, 900_000);

  it("p pauses the run (recorded, nothing more launched or merged) and p again resumes it; the run then ends merged", async () => {
    const made = await project("dash-pause", [
      { number: 20, title: "Add the greeting", sleepSeconds: 8, path: "greeting.txt", text: "hello" },
      { number: 21, title: "Add the farewell", blockedBy: [20], path: "farewell.txt", text: "goodbye" },
    ]);
    const id = projectId(made.repo.projectName, made.repo.dir);
    coordinatorsOf.push(path.join(made.repo.dataDir, id));
    const log = (): Promise<StoredEvent[]> => events(made.repo.dataDir, id);
    const term = openTerminal([process.execPath, binPath, "--cwd", made.repo.dir, "coordinate", "20", "21"], { cwd: repoRoot, env: { ...cleanEnv(), ...made.repo.env } });

    await waitForEvent(log, isEvent("Launched", 20), "launch of #20");
    await term.waitForScreen((screen) => screen.includes("p pause") && /#21 /.test(screen), "the dashboard with both issues");
    term.press("p");
    const paused = await waitForEvent(log, isEvent("Paused"), "Paused");
    await term.waitForScreen((screen) => screen.includes("PAUSED") && screen.includes("p resume"), "the run paused");

    // #20's pull request opens while paused: unpaused, #21 would be launched on it and #20 merged by now.
    await waitForEvent(log, isEvent("PullRequestOpened", 20), "#20's pull request");
    const held = await log();
    expect(held.filter((e) => e.seq > paused.seq && (isEvent("Launched")(e) || isEvent("Merged")(e))).map((e) => e.type)).toEqual([]);

    term.press("p");
    const resumed = await waitForEvent(log, isEvent("Resumed"), "Resumed");
    const status = await term.waitForExit();
    expect(status, term.screen().split("\n").slice(-60).join("\n")).toBe(0);
    const all = await log();
    const seqOf = (type: string, issue: number): number => all.find(isEvent(type, issue))?.seq ?? -1;
    expect(seqOf("Launched", 21)).toBeGreaterThan(resumed.seq);
    expect(seqOf("Merged", 20)).toBeGreaterThan(resumed.seq);
    expect(await mergedOnce(made)).toEqual([]);
    expect(term.screen()).toContain("2 merged, 0 failed, 0 blocked");
  }, 600_000);

  it("q detaches: the view exits 0 saying how to come back, the run goes on, and status --watch follows it to its end", async () => {
    const made = await project("dash-detach", [
      { number: 30, title: "Add the greeting", sleepSeconds: 6, path: "greeting.txt", text: "hello" },
      { number: 31, title: "Add the farewell", blockedBy: [30], path: "farewell.txt", text: "goodbye" },
    ]);
    const id = projectId(made.repo.projectName, made.repo.dir);
    coordinatorsOf.push(path.join(made.repo.dataDir, id));
    const log = (): Promise<StoredEvent[]> => events(made.repo.dataDir, id);
    const env = { ...cleanEnv(), ...made.repo.env };
    const term = openTerminal([process.execPath, binPath, "--cwd", made.repo.dir, "coordinate", "30", "31"], { cwd: repoRoot, env });
    await waitForEvent(log, isEvent("Launched", 30), "launch of #30");
    await term.waitForScreen((screen) => screen.includes("q detach") && /#31 /.test(screen), "the dashboard with both issues");
    term.press("q");
    expect(await term.waitForExit()).toBe(0);
    expect(term.screen()).toContain("Detached: the run goes on in process");
    expect(term.screen()).toContain("cspace status --watch shows it again");

    const watch = openTerminal([process.execPath, binPath, "--cwd", made.repo.dir, "status", "--watch"], { cwd: repoRoot, env });
    expect(await watch.waitForExit()).toBe(0);
    expect(watch.screen()).toMatch(/^merged 2 · working 0 · waiting 0 · failed 0 · blocked 0$/m);
    expect(watch.screen()).toContain("2 merged, 0 failed, 0 blocked");
    await waitForEvent(log, isEvent("RunFinished"), "the run's end");
    expect(await mergedOnce(made)).toEqual([]);
  }, 600_000);
});
