import { mkdir, mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { runCli } from "../support/cli.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { testDocker } from "../support/docker.ts";

/**
 * `cspace demo` as a new user meets it: no variables beyond a home directory
 * (isolated here, with TMPDIR, so what the demo leaves is seen whole), the
 * data and run directories wherever cspace puts them by default.
 */

const docker = testDocker();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A home and a TMPDIR of the test's own; XDG_* empty, so the defaults under them apply. */
async function userEnvironment(): Promise<{ root: string; tmp: string; home: string; env: NodeJS.ProcessEnv }> {
  const root = await mkdtemp(path.join(os.tmpdir(), "cspace-demo-first-run-"));
  const tmp = path.join(root, "tmp");
  const home = path.join(root, "home");
  await mkdir(tmp);
  await mkdir(home);
  return { root, tmp, home, env: { HOME: home, TMPDIR: tmp, XDG_RUNTIME_DIR: "", XDG_DATA_HOME: "" } };
}

/** Removes the project's containers, whatever the run left: found from the project directory the demo named on stderr. */
function removeContainersOf(root: string, stderr: () => string, knownId: () => string | null): () => Promise<void> {
  return async () => {
    const dir = /the project is (\S+),/.exec(stderr())?.[1];
    const fromConfig =
      dir === undefined
        ? null
        : await readFile(path.join(dir, ".cspace.json"), "utf8").then(
            (text) => projectId((JSON.parse(text) as { project: { name: string } }).project.name, dir),
            () => null,
          );
    const id = knownId() ?? fromConfig;
    if (id !== null) {
      const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } });
      await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    }
    await rm(root, { recursive: true, force: true });
  };
}

interface DemoJson {
  readonly kind: string;
  readonly projectId: string;
  readonly merged: readonly string[];
  readonly left: string;
  readonly report: { readonly rows: readonly { readonly issue: number; readonly status: string }[] };
}

describe("cspace demo, first run", () => {
  it("--issues 10 takes ten issues (chains, diamonds, same-line pairs) to merged, then leaves nothing in TMPDIR or the data directory", async () => {
    const user = await userEnvironment();
    let stderr = "";
    let id: string | null = null;
    cleanups.push(removeContainersOf(user.root, () => stderr, () => id));

    const run = await runCliAsync(["demo", "--issues", "10", "--json"], { env: user.env, timeoutMs: 1_700_000 });
    stderr = run.stderr;
    expect(run.status, run.stderr.slice(-4000)).toBe(0);
    const result = run.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as DemoJson)
      .find((line) => line.kind === "report");
    if (result === undefined) throw new Error(`no report line in: ${run.stdout.slice(-2000)}`);
    id = result.projectId;
    expect(result.report.rows.map((row) => [row.issue, row.status])).toEqual(Array.from({ length: 10 }, (_, n) => [n + 1, "merged"]));
    // Ten squash commits above the project's first, each naming the issue it closes.
    expect(result.merged).toHaveLength(11);
    for (let n = 1; n <= 10; n++) expect(result.merged.filter((line) => line.endsWith(`(closes #${String(n)})`)), `#${String(n)}`).toHaveLength(1);

    // Nothing in TMPDIR: the temporary project, its forge, the run directory (and cspace-<uid> above it, made by this run).
    expect(result.left).toBe("nothing");
    expect(await readdir(user.tmp)).toEqual([]);
    // Nor in the data directory: the object store and the event log went with the instances.
    expect(await readdir(path.join(user.home, ".local", "share", "cspace")).catch(() => [])).toEqual([]);
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } })).toEqual([]);
  }, 1_800_000);

  it("--keep: status, list and down --all --purge in <dir>/project find the run with no variable, and down removes what it made", async () => {
    const user = await userEnvironment();
    const dir = path.join(user.root, "demo");
    const project = path.join(dir, "project");
    let stderr = "";
    cleanups.push(removeContainersOf(user.root, () => stderr, () => null));

    const run = await runCliAsync(["demo", "--issues", "3", "--keep", "--dir", dir], { env: user.env, timeoutMs: 1_100_000 });
    stderr = run.stderr;
    expect(run.status, run.stderr.slice(-4000)).toBe(0);
    expect(run.stdout).toContain(`Look around: cd ${project}`);
    const id = projectId((JSON.parse(await readFile(path.join(project, ".cspace.json"), "utf8")) as { project: { name: string } }).project.name, project);

    // As a user would: in the project, the same shell, nothing exported for cspace.
    const status = runCli(["status", "--json"], { cwd: project, env: user.env });
    expect(status.status, status.stderr).toBe(0);
    const report = (JSON.parse(status.stdout) as { report: { rows: { issue: number; status: string }[] } | null }).report;
    expect(report?.rows.map((row) => [row.issue, row.status])).toEqual([[1, "merged"], [2, "merged"], [3, "merged"]]);

    const list = runCli(["list", "--json"], { cwd: project, env: user.env });
    expect(list.status, list.stderr).toBe(0);
    const instances = (JSON.parse(list.stdout) as { instances: { instance: string; base: string | null }[] }).instances;
    // 2 and 3 were stacked on issue-1, as the report says; list says so too.
    expect(instances.map((i) => [i.instance, i.base])).toEqual([["issue-1", "main"], ["issue-2", "issue-1"], ["issue-3", "issue-1"]]);

    const dataDir = path.join(user.home, ".local", "share", "cspace", id);
    expect((await readdir(dataDir)).length).toBeGreaterThan(0);
    const down = runCli(["down", "--all", "--purge"], { cwd: project, env: user.env });
    expect(down.status, down.stderr).toBe(0);
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } })).toEqual([]);
    await expect(readdir(dataDir)).rejects.toThrow(/ENOENT/);
    // The run directory went too; the project and its forge are the user's, and stay.
    expect(await readdir(path.join(user.tmp, `cspace-${String(process.getuid?.() ?? "")}`))).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(["project", "remote.git"]);
    expect(runCli(["status"], { cwd: project, env: user.env }).stdout).toContain("No coordinator run yet");
  }, 1_200_000);
});
