import { spawn, type ChildProcess } from "node:child_process";
import { readdir } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { binPath, cleanEnv } from "../support/cli.ts";
import { BASE_IMAGE, testDocker } from "../support/docker.ts";
import { containersOf } from "../support/fixture-instances.ts";
import { makeFixtureRepo, type FixtureRepo } from "../support/fixture-repo.ts";

const runId = inject("cspaceTestRun");
const docker = testDocker();
const repos: FixtureRepo[] = [];
const children: ChildProcess[] = [];


afterEach(async () => {
  // A warm that ignored the interrupt must not outlive its test.
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const repo of repos.splice(0)) {
    await Promise.all((await containersOf(docker, repo)).map((id) => docker.getContainer(id).remove({ force: true })));
    await repo.remove();
  }
});

/** Everything the child printed on stderr so far: what a stuck test reports. */
let stderrSoFar = "";

/**
 * Fails with what the warm printed when `promise` is not settled in time: not
 * a wait standing in for synchronisation (the promise is the event awaited),
 * but a way for a stuck run to say where it stuck instead of hitting the
 * test's own timeout silently.
 */
async function within<T>(what: string, promise: Promise<T>, ms = 60_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`${what} did not happen within ${String(ms / 1000)} s; warm's stderr so far:\n${stderrSoFar}`));
    }, ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves when every instance has printed that its postCreateCommand started (plain progress lines on stderr). */
function postCreateStarted(stderr: NodeJS.ReadableStream, instances: readonly string[]): Promise<void> {
  const waiting = new Set(instances);
  let text = "";
  stderrSoFar = "";
  return new Promise((resolve, reject) => {
    stderr.on("data", (chunk: Buffer) => {
      text += chunk.toString("utf8");
      stderrSoFar = text;
      for (const name of waiting) if (text.includes(`${name}: postCreate\n`)) waiting.delete(name);
      if (waiting.size === 0) resolve();
    });
    stderr.on("end", () => {
      if (waiting.size > 0) reject(new Error(`warm ended before postCreate started for ${[...waiting].join(", ")}:\n${text}`));
    });
  });
}

describe.each([
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const)("%s during cspace warm", (signal, expectedCode) => {
  it(`exits ${expectedCode} and leaves no container, workspace or run-dir file of the instances it was making`, async () => {
    const repo = await makeFixtureRepo({
      projectName: `warm-int-${runId}`.slice(0, 60),
      devcontainer: {
        image: BASE_IMAGE,
        // The checkout is named after the instance, so each container knows its own name.
        containerEnv: { CHECKOUT: "${localWorkspaceFolder}" },
        // Leaves a file in the run directory, then blocks until a file that never comes.
        postCreateCommand: 'echo busy > "/run/cspace/$(basename "$CHECKOUT").log"; while [ ! -f /run/cspace/go ]; do sleep 0.2; done',
      },
    });
    repos.push(repo);
    const child = spawn(process.execPath, [binPath, "--cwd", repo.dir, "warm", "a", "b"], {
      env: { ...cleanEnv(), ...repo.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));

    await within("postCreate starting in both instances", postCreateStarted(child.stderr, ["a", "b"]));
    expect(await containersOf(docker, repo)).toHaveLength(2);
    child.kill(signal);
    const code = await within(`warm exiting after ${signal}`, exited);

    expect(code).toBe(expectedCode);
    expect(stdout).toMatch(/^a +cancelled/m);
    expect(stdout).toMatch(/^b +cancelled/m);
    expect(await containersOf(docker, repo)).toEqual([]);
    const projects = await readdir(repo.dataDir);
    const workspaces = await Promise.all(projects.map((p) => readdir(path.join(repo.dataDir, p, "workspaces")).catch(() => [])));
    expect(workspaces.flat()).toEqual([]);
    const runFiles = await readdir(repo.runDir);
    expect(runFiles.filter((f) => f === "a" || f === "b" || f.startsWith("a.") || f.startsWith("b."))).toEqual([]);
  });
});
