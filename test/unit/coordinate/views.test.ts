import { afterEach, describe, expect, it } from "vitest";
import { coordinate } from "../../../src/services/coordinate/coordinate.ts";
import { runStatus } from "../../../src/services/coordinate/run-status.ts";
import type { CoordinatorProgress } from "../../../src/core/coordinator-runtime/progress.ts";
import { progressLine } from "../../../src/ui/coordinate-lines.ts";
import { renderRunReport } from "../../../src/ui/coordinate-report.ts";
import { reportMarkdown } from "../../../src/core/coordinator-runtime/report-table.ts";
import { makeProject, type TempProject } from "../../support/temp-project.ts";
import { CoordinatorWorld } from "./world.ts";

const projects: TempProject[] = [];
afterEach(async () => {
  for (const project of projects.splice(0)) await project.remove();
});

describe("views of a run", () => {
  it("status folds the same log into the same table the run reported; progress reads as timestamped lines", async () => {
    const project = await makeProject({ config: { project: { name: "views" }, forge: { type: "local" } } });
    projects.push(project);
    const world = new CoordinatorWorld({ 10: [], 12: [10] });
    const env = { CSPACE_RUN_DIR: `${project.dir}/run` };
    const progress: CoordinatorProgress[] = [];
    const result = await coordinate({ cwd: project.dir, env, numbers: [10, 12], ports: world.ports(), onProgress: (p) => progress.push(p) });
    const status = await runStatus({ cwd: project.dir, env, ports: { ...world.ports(), eventStore: () => world.store } });
    expect(status.report?.rows).toEqual(result.report.rows);
    expect(status.holder).toBeNull();
    const lines = progress.map(progressLine).filter((line): line is string => line !== null);
    expect(lines.some((line) => /^\d\d:\d\d:\d\d #10 merged as /.test(line))).toBe(true);
    expect(lines.at(-1)).toMatch(/run finished \(exit 0\)/);
    const table = renderRunReport(result.report, (_tone, text) => text);
    expect(table.join("\n")).toMatch(/#12 +#\d+ +issue-10 +merged/);
  });

  it("status of a run whose coordinator was stopped says it is not running and how to resume it", async () => {
    const project = await makeProject({ config: { project: { name: "views-stopped" }, forge: { type: "local" } } });
    projects.push(project);
    const world = new CoordinatorWorld({ 10: [], 12: [10] }, {}, { agentMs: 60_000 });
    const env = { CSPACE_RUN_DIR: `${project.dir}/run` };
    const stop = new AbortController();
    // Ctrl-C once the first agent is at work: the run is left unfinished, nobody holds it.
    const stopped = coordinate({ cwd: project.dir, env, numbers: [10, 12], ports: world.ports(), signal: stop.signal, onProgress: (p) => {
      if (p.kind === "event" && p.event.type === "Launched") stop.abort(new Error("interrupted"));
    } });
    await expect(stopped).rejects.toThrow();
    const status = await runStatus({ cwd: project.dir, env, ports: { ...world.ports(), eventStore: () => world.store } });
    expect(status.holder).toBeNull();
    if (status.report === null) throw new Error("the stopped run has no report");
    const table = renderRunReport(status.report, (_tone, text) => text, null).join("\n");
    expect(table).toContain("Not running");
    expect(table).toContain("cspace coordinate --resume");
    // While a coordinator holds the run, or in the coordinator's own report, nothing of the kind is said.
    expect(renderRunReport(status.report, (_tone, text) => text, "pid 1 on host since now").join("\n")).not.toContain("Not running");
  });

  it("a failed issue's progress line and the report say what failed, the end of its output, and cspace logs issue-N", async () => {
    const project = await makeProject({ config: { project: { name: "views-failed" }, forge: { type: "local" }, verify: { all: "npm test" }, coordinator: { maxAttempts: 2 } } });
    projects.push(project);
    const world = new CoordinatorWorld({ 10: [] }, { 10: { verify: ["fail", "fail"] } });
    const progress: CoordinatorProgress[] = [];
    const result = await coordinate({ cwd: project.dir, env: { CSPACE_RUN_DIR: `${project.dir}/run` }, numbers: [10], ports: world.ports(), onProgress: (p) => progress.push(p) });
    expect(result.exitCode).toBe(1);
    const lines = progress.map(progressLine).filter((line): line is string => line !== null).join("\n");
    expect(lines).toMatch(/^\d\d:\d\d:\d\d #10 failed: 2 of 2 attempts failed; the last: .*npm test.* \(cspace logs issue-10\)$/m);
    expect(lines).toMatch(/#10 failed: .*\n\d\d:\d\d:\d\d {3}the last lines of `npm test`:\n\d\d:\d\d:\d\d {3}\| 1 test failed$/m);
    const table = renderRunReport(result.report, (_tone, text) => text).join("\n");
    expect(table).toContain("#10 failed: 2 of 2 attempts failed");
    expect(table).toMatch(/the last lines of `npm test`:\n +\| 1 test failed\n +its agent's log: cspace logs issue-10/);
    const markdown = reportMarkdown(result.report);
    expect(markdown).toContain("## Failed");
    expect(markdown).toContain("| 1 test failed");
    expect(markdown).toContain("cspace logs issue-10");
  });
});
