import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fakePorts, type FakePorts } from "../../fakes/ports.ts";
import type { ExecOutcome } from "../../../src/core/instances/ports.ts";
import { instancePaths, type InstancePaths } from "../../../src/services/workers/instance-files.ts";
import { openProject } from "../../../src/services/project.ts";
import { FakeSupervisor } from "./fake-supervisor.ts";

/**
 * A project on fake ports whose containers "run" supervisors in-process:
 * starting `worker.cjs supervise` starts a FakeSupervisor on the instance's
 * w.sock, and restart's kill script stops it. Real files in a temp run dir.
 */
export interface WorkerProject {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly ports: FakePorts;
  readonly runDir: string;
  /** Every supervisor started, in order. */
  readonly supervisors: FakeSupervisor[];
  /** Kill-script calls: [pid, signal it reported]. */
  readonly kills: string[][];
  paths(instance: string): InstancePaths;
  /** The supervisors that answer now. */
  running(): FakeSupervisor[];
}

export async function workerProject(dir: string, config: Record<string, unknown> = {}, options: { sessionId?: string | null } = {}): Promise<WorkerProject> {
  await mkdir(path.join(dir, ".devcontainer"));
  await writeFile(path.join(dir, ".devcontainer", "devcontainer.json"), JSON.stringify({ image: "cspace-base:bookworm" }));
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "demo" }, agent: { preset: "scripted" }, ...config }));
  const env = { CSPACE_RUN_DIR: path.join(dir, "run"), CSPACE_DATA_DIR: path.join(dir, "data"), HOME: dir, PATH: process.env.PATH };
  const ports = fakePorts();
  const project = await openProject({ cwd: dir, env });
  const supervisors: FakeSupervisor[] = [];
  const kills: string[][] = [];
  const paths = (instance: string): InstancePaths => instancePaths(project.runDir, instance);
  ports.runtime.onExec(({ command, container }): Promise<ExecOutcome> | undefined => {
    const instance = container.spec.Labels["dev.cspace.instance"] ?? "";
    if (command.includes("supervise")) {
      const created = (s: FakeSupervisor): void => {
        supervisors.push(s);
      };
      return FakeSupervisor.start(paths(instance), { pid: 100 + supervisors.length, sessionId: options.sessionId ?? null, created }).then(() => ({ exitCode: 0, stdout: "", stderr: "" }));
    }
    if (command.includes("cspace-stop")) {
      const pid = command[command.indexOf("cspace-stop") + 1] ?? "";
      const victim = supervisors.find((s) => s.running && String(s.status().pid) === pid);
      kills.push([pid, victim === undefined ? "gone" : "TERM"]);
      if (victim === undefined) return Promise.resolve({ exitCode: 0, stdout: "gone\n", stderr: "" });
      return victim.die().then(() => ({ exitCode: 0, stdout: "TERM\n", stderr: "" }));
    }
    return undefined;
  });
  return { cwd: dir, env, ports, runDir: project.runDir, supervisors, kills, paths, running: () => supervisors.filter((s) => s.running) };
}
