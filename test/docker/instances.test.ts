import { spawn } from "node:child_process";
import { once } from "node:events";
import { afterEach, describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { binPath, cleanEnv, runCli, type CliResult } from "../support/cli.ts";
import { BASE_IMAGE, testDocker, testLabels } from "../support/docker.ts";
import { makeFixtureRepo, type FixtureRepo } from "../support/fixture-repo.ts";

const runId = inject("cspaceTestRun");
const docker = testDocker();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function fixture(name: string): Promise<FixtureRepo> {
  const repo = await makeFixtureRepo({ projectName: `${name}-${runId}`.slice(0, 60), devcontainer: { image: BASE_IMAGE } });
  // Whatever a failed test left is removed, silently: whether `down` leaves anything is each test's own assertion,
  // made after its `down`, so a test that failed earlier is not also reported as leaking.
  cleanups.push(async () => {
    const left = await docker.listContainers({ all: true, filters: { label: [projectLabel(repo)] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    await repo.remove();
  });
  return repo;
}

function projectLabel(repo: FixtureRepo): string {
  return `${LABELS.project}=${projectId(repo.projectName, repo.dir)}`;
}

/** The names of the project's containers, running or not. */
async function containersOf(repo: FixtureRepo): Promise<(string | undefined)[]> {
  return (await docker.listContainers({ all: true, filters: { label: [projectLabel(repo)] } })).map((c) => c.Names[0]);
}

function cli(repo: FixtureRepo, args: readonly string[]): CliResult {
  return runCli(["--cwd", repo.dir, ...args], { env: repo.env });
}

describe("cspace list, exec and down against the real engine", () => {
  it("lists this project's instances by label, and down --all leaves another project's container alone", async () => {
    const repo = await fixture("inst-list");
    // Another project's instance, labelled as cspace would label it.
    const other = await docker.createContainer({
      Image: BASE_IMAGE,
      Cmd: ["sleep", "600"],
      Labels: { ...testLabels(runId, `other-${runId}`), [LABELS.instance]: "l1" },
    });
    cleanups.push(async () => {
      await other.remove({ force: true });
    });
    await other.start();
    expect(cli(repo, ["warm", "l1", "l2"]).status).toBe(0);

    const listed = cli(repo, ["list", "--json"]);
    expect(listed.status).toBe(0);
    const instances = (JSON.parse(listed.stdout) as { instances: { instance: string; state: string; base: string; image: string }[] }).instances;
    expect(instances.map((i) => [i.instance, i.state, i.base, i.image])).toEqual([
      ["l1", "running", "main", BASE_IMAGE],
      ["l2", "running", "main", BASE_IMAGE],
    ]);
    expect(cli(repo, ["list"]).stdout).toMatch(/^l1 +running +main +\d+s +cspace-base:bookworm$/m);

    const down = cli(repo, ["down", "--all"]);
    expect(down.stdout).toBe("l1: removed container, workspace, instance directory\nl2: removed container, workspace, instance directory\n");
    expect((await other.inspect()).State.Running).toBe(true);
    expect(cli(repo, ["list", "--json"]).stdout).toContain('"instances": []');
    expect(await containersOf(repo)).toEqual([]);
  });

  it("passes exec's exit code through, reports missing instances to down without failing the others", async () => {
    const repo = await fixture("inst-exec");
    expect(cli(repo, ["warm", "e1"]).status).toBe(0);
    const ran = cli(repo, ["exec", "e1", "--", "sh", "-c", "pwd; echo oops >&2; exit 3"]);
    expect([ran.status, ran.stdout, ran.stderr]).toEqual([3, "/workspaces/repo\n", "oops\n"]);
    expect(cli(repo, ["exec", "nope", "--", "true"]).status).toBe(2);
    const down = cli(repo, ["down", "ghost", "e1"]);
    expect(down.status).toBe(0);
    expect(down.stdout).toBe("ghost: not found (nothing to remove)\ne1: removed container, workspace, instance directory\n");
    expect(await containersOf(repo)).toEqual([]);
  });

  it("opens an interactive shell in the workspace under a terminal, and passes its exit code through", async () => {
    const repo = await fixture("inst-tty");
    expect(cli(repo, ["warm", "t1"]).status).toBe(0);
    // script(1) gives cspace a real pseudo-terminal; the shell reads the typed lines from it.
    const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`;
    const command = [process.execPath, binPath, "--cwd", repo.dir, "exec", "t1"].map(quote).join(" ");
    const session = spawn("script", ["-qfec", command, "/dev/null"], { env: { ...cleanEnv(), ...repo.env }, stdio: ["pipe", "pipe", "inherit"] });
    let screen = "";
    session.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      screen += chunk.replaceAll("\r", "");
    });
    // Typed ahead, into a terminal that stays open as a person's does until the shell is gone: had its input ended,
    // script(1) would have typed one more key (^D) after them.
    session.stdin.on("error", () => undefined);
    session.stdin.write("echo inside-$((6*7)) $(id -u)\npwd\nexit 5\n");
    const [status] = (await once(session, "close")) as [number | null];
    session.stdin.destroy();
    expect(status, screen).toBe(5);
    expect(screen).toMatch(/^inside-42 \d+$/m);
    expect(screen).toMatch(/^\/workspaces\/repo$/m);
    expect(cli(repo, ["down", "t1"]).status).toBe(0);
    expect(await containersOf(repo)).toEqual([]);
  });

  it("fails with exit 3 and a hint before any work when no engine answers", async () => {
    const repo = await fixture("inst-noengine");
    const result = runCli(["--cwd", repo.dir, "warm", "n1"], { env: { ...repo.env, DOCKER_HOST: `unix://${repo.dir}/no.sock` } });
    expect(result.status).toBe(3);
    expect(result.stderr).toMatch(/hint: Start the Docker engine/);
  });
});
