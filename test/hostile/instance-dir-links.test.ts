import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { issueFile, makeCoordinateProject, retryTemplate, type CoordinateProject } from "../support/coordinate-project.ts";
import { isEvent, startCoordinator, until } from "../support/coordinate-run.ts";
import { testDocker } from "../support/docker.ts";
import { tempDir } from "../support/git-fixtures.ts";

/**
 * A prompt-injected agent in a real worker replaces every file of its
 * instance directory (/run/cspace, the host's `<run dir>/<instance>/`) with a
 * link to a file of the host, and plants links at the names the host writes
 * (the attempt mark, prompt.md, launch.json). A real worker learns host paths
 * from /proc/self/mountinfo; this one is told where the canaries are. Then it
 * kills its supervisor, so the coordinator finds the worker lost, retries the
 * issue and starts a new supervisor in the same instance (writing the attempt
 * mark, the prompt and the launch record again). No canary may change, and
 * the run must still end with the issue merged.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Every name the host reads or writes in an instance directory, today's and the attempt mark older versions wrote there. */
const NAMES = ["coordinator-attempt.json", "prompt.md", "launch.json", "state.json", "events.ndjson", "events.1.ndjson", "supervisor.pid", "supervisor.log", "blocked.json"];

interface Canary {
  readonly file: string;
  readonly content: string;
  readonly mtimeMs: number;
}

async function snapshot(canaries: readonly Canary[]): Promise<string[]> {
  return Promise.all(canaries.map(async (c) => `${c.file} ${await readFile(c.file, "utf8").catch(() => "<gone>")} ${String((await stat(c.file).catch(() => null))?.mtimeMs)}`));
}

/** The attacker's shell script, run as root in the worker: links for every file and folder but the sockets, and at every name the host writes. */
function attack(canaryDir: string): string {
  return [
    "set -e",
    // "worker[.]cjs" matches the supervisor's command line and not this script's own.
    'signal_supervisor() { for p in /proc/[0-9]*; do [ "${p#/proc/}" = "$$" ] && continue; if { tr "\\0" " " < "$p/cmdline"; } 2>/dev/null | grep -q "worker[.]cjs"; then kill "-$1" "${p#/proc/}" 2>/dev/null || true; fi; done; }',
    // Frozen first: a supervisor still at work rewrites state.json between the attacker's rm and ln.
    "signal_supervisor STOP",
    "cd /run/cspace",
    `for f in * .[!.]*; do [ -e "$f" ] || [ -L "$f" ] || continue; [ -S "$f" ] && continue; rm -rf "$f"; ln -sfn "${canaryDir}/$f" "$f"; done`,
    `for f in ${NAMES.join(" ")}; do [ -e "$f" ] || [ -L "$f" ] || ln -sfn "${canaryDir}/$f" "$f"; done`,
    // Then gone: without the supervisor the coordinator finds the worker lost and starts the attempt over.
    "signal_supervisor KILL",
    "ls -la /run/cspace",
  ].join("\n");
}

async function execAsRoot(project: CoordinateProject, instance: string, script: string): Promise<{ code: number | null; output: string }> {
  const [info] = await docker.listContainers({ filters: { label: [`${LABELS.project}=${project.projectId}`, `${LABELS.instance}=${instance}`] } });
  if (info === undefined) throw new Error(`${instance} has no running container`);
  const exec = await docker.getContainer(info.Id).exec({ Cmd: ["/bin/sh", "-c", script], User: "0", AttachStdout: true, AttachStderr: true });
  const stream = await exec.start({});
  const chunks: Buffer[] = [];
  stream.on("data", (chunk: Buffer) => chunks.push(chunk));
  await new Promise<void>((resolve, reject) => {
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  return { code: (await exec.inspect()).ExitCode, output: Buffer.concat(chunks).toString("utf8") };
}

/** The agent state a supervisor's state.json records ("" while the file is missing or half-written). */
function agentStateIn(text: string): string {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === "object" && parsed !== null && "state" in parsed && typeof parsed.state === "string" ? parsed.state : "";
  } catch {
    return "";
  }
}

describe("a worker that replaces its instance directory's files with links to host files", () => {
  it("changes no host file while the coordinator retries and restarts its attempt, and the issue is still merged", async () => {
    const project = await makeCoordinateProject(docker, {
      name: `hostile-links-${runId}`,
      coordinator: { maxAttempts: 3 },
      files: { ".cspace/templates/retry.md.hbs": retryTemplate("fixed.txt", "after the attack") },
      // The first attempt waits (for a message that never comes) while the attack happens.
      issues: { 70: issueFile("Survive the attack", "cspace-script: wait-message") },
    });
    cleanups.push(() => project.remove());
    const canaryRoot = await tempDir("cspace-canary-");
    cleanups.push(() => canaryRoot.remove());
    const canaryDir = canaryRoot.dir;
    const canaries: Canary[] = [];
    for (const name of NAMES) {
      const file = path.join(canaryDir, name);
      const content = `the host's own ${name}, not the worker's\n`;
      await writeFile(file, content);
      canaries.push({ file, content, mtimeMs: (await stat(file)).mtimeMs });
    }
    // The outbox becomes a link to a host folder holding a report-shaped file the host must neither read as a report nor move.
    await mkdir(path.join(canaryDir, "outbox", "delivered"), { recursive: true });
    const planted = path.join(canaryDir, "outbox", "r-planted.json");
    await writeFile(planted, JSON.stringify({ id: "r-planted", instance: "issue-70", outcome: "done" }));
    canaries.push({ file: planted, content: await readFile(planted, "utf8"), mtimeMs: (await stat(planted)).mtimeMs });
    const before = await snapshot(canaries);

    const run = startCoordinator(project, ["70"]);
    cleanups.push(() => run.kill9());
    const paths = { state: path.join(project.repo.runDir, "issue-70", "state.json") };
    await run.waitFor(isEvent("Launched", 70));
    // The agent runs (its supervisor wrote its state): now the attack. The scripted agent's wait-message ends its
    // turn at once, so "working" lasts only until it starts; "idle" is where it then waits, and either will do.
    await until(async () => ["working", "idle"].includes(agentStateIn(await readFile(paths.state, "utf8").catch(() => ""))), "issue-70's agent running");
    const attacked = await execAsRoot(project, "issue-70", attack(canaryDir));
    expect(attacked.code, attacked.output).toBe(0);

    await run.waitFor(isEvent("WorkerLost", 70));
    const { status, stderr } = await run.exited;
    expect(await snapshot(canaries)).toEqual(before);
    expect((await readdir(path.join(canaryDir, "outbox"))).sort()).toEqual(["delivered", "r-planted.json"]);
    expect(await readdir(path.join(canaryDir, "outbox", "delivered"))).toEqual([]);

    expect(status, stderr.slice(-4000)).toBe(0);
    expect(project.git("show", "main:fixed.txt")).toBe("after the attack");
    expect(await project.issueState(70)).toBe("closed");
  }, 300_000);
});
