import { spawnSync } from "node:child_process";
import { afterEach, describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { binPath, cleanEnv, runCli } from "../support/cli.ts";
import { BASE_IMAGE, testDocker } from "../support/docker.ts";
import { makeFixtureRepo, type FixtureRepo } from "../support/fixture-repo.ts";

const runId = inject("cspaceTestRun");
const docker = testDocker();
const repos: FixtureRepo[] = [];
const ESC = "\u001b";
/** What the live display writes to go back over a line: carriage return, erase line, cursor up. */
const REDRAW = new RegExp(`\\r|${ESC}\\[2K|${ESC}\\[\\d+A`);

afterEach(async () => {
  for (const repo of repos.splice(0)) {
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${projectId(repo.projectName, repo.dir)}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
    await repo.remove();
    expect(left.map((c) => c.Names[0])).toEqual([]);
  }
});

async function fixture(name: string): Promise<FixtureRepo> {
  const repo = await makeFixtureRepo({
    projectName: `${name}-${runId}`.slice(0, 60),
    devcontainer: { image: BASE_IMAGE, postCreateCommand: "true" },
  });
  repos.push(repo);
  return repo;
}

const quote = (word: string): string => `'${word.replaceAll("'", "'\\''")}'`;

/** Runs cspace under a real pseudo-terminal (util-linux `script`): stdout and stderr both arrive as the terminal's output. */
function underTerminal(repo: FixtureRepo, args: readonly string[]): { status: number | null; output: string } {
  const command = [process.execPath, binPath, "--cwd", repo.dir, ...args].map(quote).join(" ");
  const result = spawnSync("script", ["-qfec", command, "/dev/null"], {
    env: { ...cleanEnv(), ...repo.env, TERM: "xterm" },
    encoding: "utf8",
    timeout: 90_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, output: result.stdout };
}

/** The terminal's lines as drawn: each `\r` and erase-line restarts a line, so what is left is what was last written on it. */
function frames(output: string): string[] {
  return output
    .split(/\r?\n/)
    .map((line) => line.split(REDRAW).filter((part) => part !== "").pop() ?? "");
}

describe("warm's progress display", () => {
  it("redraws one line per instance with its step and elapsed time in a terminal, then prints the summary table", async () => {
    const repo = await fixture("warm-tty");
    const { status, output } = underTerminal(repo, ["warm", "t1", "t2"]);
    expect(status, output).toBe(0);
    // Live: the drawing moves the cursor up and erases lines to redraw in place.
    expect(output).toContain(`${ESC}[2K`);
    expect(output).toMatch(new RegExp(`${ESC}\\[2A`));
    const lines = frames(output);
    for (const name of ["t1", "t2"]) {
      for (const step of ["workspace", "create", "start", "postCreate", "validate"]) {
        expect(lines.some((line) => new RegExp(`^… ${name}  ${step}  \\d+\\.\\ds$`).test(line)), `${name} ${step}`).toBe(true);
      }
      expect(lines, name).toContainEqual(expect.stringMatching(new RegExp(`^✓ ${name}  ready  \\d+\\.\\ds$`)));
    }
    const header = lines.findIndex((line) => /^INSTANCE +STATUS +ACTION +BASE +COMMIT +TIME +CONTAINER$/.test(line));
    expect(header, output).toBeGreaterThan(-1);
    expect(lines.slice(header + 1, header + 3)).toEqual([
      expect.stringMatching(/^t1 +ready +created +main +[0-9a-f]{12} +\d+\.\ds +cspace-/),
      expect.stringMatching(/^t2 +ready +created +main +[0-9a-f]{12} +\d+\.\ds +cspace-/),
    ]);
    expect(runCli(["--cwd", repo.dir, "down", "--all"], { env: repo.env }).status).toBe(0);
  });

  it("writes plain lines with no escape codes when stderr is not a terminal", async () => {
    const repo = await fixture("warm-plain");
    const result = runCli(["--cwd", repo.dir, "warm", "p1"], { env: repo.env });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).not.toContain(ESC);
    expect(result.stderr).not.toContain("\r");
    expect(result.stdout).not.toContain(ESC);
    expect(result.stderr.split("\n")).toEqual([
      "p1: image",
      "p1: workspace",
      "p1: create",
      "p1: start",
      "p1: postCreate",
      "p1: postStart",
      "p1: validate",
      expect.stringMatching(/^p1: ready in \d+\.\ds$/),
      "",
    ]);
    expect(result.stdout).toMatch(/^INSTANCE +STATUS +ACTION +BASE +COMMIT +TIME +CONTAINER\np1 +ready +created +main /);
    expect(runCli(["--cwd", repo.dir, "down", "--all"], { env: repo.env }).status).toBe(0);
  });
});
