import { afterEach, describe, expect, it } from "vitest";
import { coordinate } from "../../../src/services/coordinate/coordinate.ts";
import { runStatus } from "../../../src/services/coordinate/run-status.ts";
import type { CoordinatorProgress } from "../../../src/core/coordinator-runtime/progress.ts";
import { progressLine } from "../../../src/ui/coordinate-lines.ts";
import { renderRunReport } from "../../../src/ui/coordinate-report.ts";
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
});
