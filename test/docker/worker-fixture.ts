import { expect, inject } from "vitest";
import type { WorkerEvent } from "../../src/core/agents/worker-status.ts";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { tailEvents } from "../../src/services/workers/events.ts";
import { instancePaths, type InstancePaths } from "../../src/services/workers/instance-files.ts";
import { runCliAsync } from "../support/cli-async.ts";
import type { CliResult } from "../support/cli.ts";
import { BASE_IMAGE, testDocker } from "../support/docker.ts";
import { makeFixtureRepo, type FixtureRepo } from "../support/fixture-repo.ts";

/**
 * The docker lane's worker tests: a fixture project whose agent preset is
 * the scripted agent, the CLI run asynchronously (a test coordinator socket
 * in this process must be able to answer while it runs), and waits on
 * events, replies and files — never on time.
 */

export const runId = inject("cspaceTestRun");
export const docker = testDocker();

export interface WorkerFixture {
  readonly repo: FixtureRepo;
  readonly projectId: string;
  cli(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliResult>;
  paths(instance: string): InstancePaths;
  /** Runs a shell script in the instance's workspace as its user; its stdout (the exit code must be 0). */
  sh(instance: string, script: string): Promise<string>;
  /** Containers this project has now. */
  containers(): Promise<{ id: string; name: string; state: string }[]>;
}

export async function workerFixture(name: string, cleanups: (() => Promise<void>)[], files: Readonly<Record<string, string>> = {}): Promise<WorkerFixture> {
  const repo = await makeFixtureRepo({ projectName: `${name}-${runId}`.slice(0, 60), devcontainer: { image: BASE_IMAGE }, config: { agent: { preset: "scripted" } }, files });
  const id = projectId(repo.projectName, repo.dir);
  const containers = async (): Promise<{ id: string; name: string; state: string }[]> =>
    (await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } })).map((c) => ({ id: c.Id, name: c.Names[0] ?? "", state: c.State }));
  cleanups.push(async () => {
    const left = await containers();
    await Promise.all(left.map((c) => docker.getContainer(c.id).remove({ force: true })));
    await repo.remove();
  });
  const cli = (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> => runCliAsync(["--cwd", repo.dir, ...args], { env: { ...repo.env, ...env } });
  return {
    repo,
    projectId: id,
    cli,
    paths: (instance) => instancePaths(repo.runDir, instance),
    async sh(instance, script) {
      const result = await cli(["exec", instance, "--", "sh", "-c", script]);
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      return result.stdout;
    },
    containers,
  };
}

/** The first event (from the start of the log) that matches; fails after timeoutMs. */
export async function waitForEvent(paths: InstancePaths, match: (event: WorkerEvent) => boolean, timeoutMs = 30_000): Promise<WorkerEvent> {
  const signal = AbortSignal.timeout(timeoutMs);
  const seen: string[] = [];
  for await (const line of tailEvents(paths, { from: "start", signal })) {
    if (line.event !== null && match(line.event)) return line.event;
    seen.push(line.raw);
  }
  throw new Error(`no matching event in ${paths.events} within ${String(timeoutMs)} ms; saw:\n${seen.join("\n")}`);
}

/** The agent has gone idle: the scripted agent waits for a message (`wait-message`). */
export const waitingForMessage = (event: WorkerEvent): boolean => event.source === "agent" && event.type === "turn";

/** How many supervisor processes run in the instance's container (its /proc, not its own word). */
export async function supervisorCount(fixture: WorkerFixture, instance: string): Promise<number> {
  // A process may end between the glob and the read (the restart just killed one): the shell's own error for that
  // redirection is silenced too, hence the group (a 2>/dev/null after "<" comes too late for it).
  const out = await fixture.sh(instance, `for p in /proc/[0-9]*; do { tr '\\0' ' ' < "$p/cmdline"; } 2>/dev/null; echo; done | grep -c '^node /opt/cspace/worker.cjs supervise' || true`);
  return Number(out.trim());
}

export function script(...lines: string[]): string {
  return lines.map((line) => `cspace-script: ${line}`).join("\n");
}

export interface ListedAgent {
  readonly instance: string;
  readonly state: string;
  readonly agent: { readonly state: string; readonly label: string; readonly lastActivity: string | null; readonly lostBecause: string | null; readonly turns: number | null };
}

export async function listed(fixture: WorkerFixture): Promise<ListedAgent[]> {
  const result = await fixture.cli(["list", "--json"]);
  expect(result.status).toBe(0);
  return (JSON.parse(result.stdout) as { instances: ListedAgent[] }).instances;
}
