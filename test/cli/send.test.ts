import { spawn } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { SocketOperatorChannel } from "../../src/adapters/messaging/operator-socket.ts";
import { runDirFor } from "../../src/core/run-dir.ts";
import { instancePaths, type InstancePaths } from "../../src/services/workers/instance-files.ts";
import { binPath, cleanEnv, runCli, type CliResult } from "../support/cli.ts";
import { useTempDirs } from "../support/temp-dirs.ts";
import { FakeSupervisor } from "../unit/workers/fake-supervisor.ts";

const tempDir = useTempDirs("send-cli");
const supervisors: FakeSupervisor[] = [];

afterEach(async () => {
  for (const s of supervisors.splice(0)) await s.die();
});

interface Project {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly paths: InstancePaths;
}

/** A project with one instance directory (as warm leaves it) and no engine anywhere: send must not need one. */
async function project(): Promise<Project> {
  const dir = await tempDir();
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "send-cli" } }));
  const runDir = path.join(dir, "run");
  const paths = instancePaths(runDir, "issue-1");
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  // Any Docker client would fail at once here: proof that send never asks the engine.
  return { dir, env: { CSPACE_RUN_DIR: runDir, DOCKER_HOST: `unix://${dir}/no-engine.sock` }, paths };
}

/** The real binary with `input` on stdin, without blocking this process (the fake supervisor answers in it). */
function cli(p: Project, args: readonly string[], input = "", extraNodeArgs: readonly string[] = []): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...extraNodeArgs, binPath, "--cwd", p.dir, ...args], { env: { ...cleanEnv(), ...p.env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => { resolve({ status, stdout, stderr }); });
    child.stdin.end(input);
  });
}

async function running(p: Project): Promise<FakeSupervisor> {
  const supervisor = await FakeSupervisor.start(p.paths);
  supervisors.push(supervisor);
  return supervisor;
}

describe("cspace send (the built binary)", () => {
  it("queues a message, from an argument or from stdin with -", async () => {
    const p = await project();
    const supervisor = await running(p);
    const sent = await cli(p, ["send", "issue-1", "Rebase onto feature/login."]);
    expect([sent.status, sent.stdout, sent.stderr]).toEqual([0, "sent to issue-1 (1 message waiting for the agent)\n", ""]);
    const piped = await cli(p, ["send", "issue-1", "-", "--json"], "a long\nmessage\n");
    expect(piped.status).toBe(0);
    expect(JSON.parse(piped.stdout)).toEqual({ instance: "issue-1", queued: true, queueDepth: 2 });
    expect(supervisor.sent).toEqual([
      { text: "Rebase onto feature/login.", from: "host" },
      { text: "a long\nmessage\n", from: "host" },
    ]);
  });

  it("refuses an empty message, and - with empty stdin, with exit 2, sending nothing", async () => {
    const p = await project();
    const supervisor = await running(p);
    for (const [args, input] of [[["send", "issue-1", ""], ""], [["send", "issue-1", "  \n"], ""], [["send", "issue-1", "-"], ""], [["send", "issue-1", "-"], "\n\n"]] as const) {
      const result = await cli(p, args, input);
      expect(result.status).toBe(2);
      expect(result.stderr).toContain("error: the message is empty: nothing was sent");
    }
    const json = await cli(p, ["send", "issue-1", "", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { kind: "user", message: "the message is empty: nothing was sent" } });
    expect(supervisor.sent).toEqual([]);
  });

  it("says exit 3, naming the instance and cspace up, for an unknown instance and for one with no supervisor", async () => {
    const p = await project();
    const unknown = await cli(p, ["send", "issue-9", "hello"]);
    expect(unknown.status).toBe(3);
    expect(unknown.stderr).toContain('error: there is no instance "issue-9" in this project');
    expect(unknown.stderr).toContain('hint: cspace up issue-9 --prompt "<task>" starts one');
    const idle = await cli(p, ["send", "issue-1", "hello"]);
    expect(idle.status).toBe(3);
    expect(idle.stderr).toContain('error: no supervisor is running for instance "issue-1"');
    expect(idle.stderr).toContain("cspace up issue-1");
  });

  it("tells the running coordinator a command and prints its answer; a command it refuses is exit 2 with its reasons", async () => {
    const p = await project();
    const said: string[] = [];
    // The coordinator's end of the operator socket, as `cspace coordinate` opens it.
    const channel = new SocketOperatorChannel(runDirFor({ env: p.env, projectName: "send-cli", projectDir: p.dir, uid: process.getuid?.(), tmpdir: os.tmpdir() }));
    const close = await channel.open((text) => {
      said.push(text);
      return Promise.resolve(text === "pause" ? { ok: true, text: "paused the run" } : { ok: false, error: `"${text}" is not a coordinator command; the commands are: pause, resume, skip` });
    });
    try {
      const paused = await cli(p, ["send", "_coordinator", "pause"]);
      expect([paused.status, paused.stdout, paused.stderr]).toEqual([0, "coordinator: paused the run\n", ""]);
      const json = await cli(p, ["send", "_coordinator", "pause", "--json"]);
      expect(JSON.parse(json.stdout)).toEqual({ instance: "_coordinator", answer: "paused the run" });
      const refused = await cli(p, ["send", "_coordinator", "dance"]);
      expect(refused.status).toBe(2);
      expect(refused.stderr).toContain('error: "dance" is not a coordinator command; the commands are: pause, resume, skip');
      const empty = await cli(p, ["send", "_coordinator", "  "]);
      expect(empty.status).toBe(2);
      expect(said).toEqual(["pause", "pause", "dance"]);
    } finally {
      await close();
    }
  });

  it("says what is wrong with the configuration (exit 2), though only the full resolver, loaded lazily, reads it", async () => {
    const p = await project();
    await writeFile(path.join(p.dir, ".cspace.json"), JSON.stringify({ project: { name: "send-cli" }, agent: { preset: "nope" } }));
    const sent = await cli(p, ["send", "issue-1", "hello"]);
    expect(sent.status).toBe(2);
    expect(sent.stderr).toContain("agent.preset");
    expect(sent.stderr).not.toContain("unexpected failure");
  });

  it("has no coordinator to reach when none runs (exit 3), and refuses a bad instance name (exit 2)", async () => {
    const p = await project();
    const coordinator = await cli(p, ["send", "_coordinator", "hello"]);
    expect(coordinator.status).toBe(3);
    expect(coordinator.stderr).toContain("error: no coordinator is running for this project");
    expect(coordinator.stderr).toContain("cspace coordinate --resume");
    const bad = await cli(p, ["send", "Issue 1", "hello"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("invalid instance name");
  });

  it("loads the configuration and the messaging client only: no Docker or GitHub client, no templates, no presets", async () => {
    const p = await project();
    await running(p);
    const record = path.join(p.dir, "loaded.txt");
    const hook = path.join(p.dir, "record-loads.mjs");
    await writeFile(
      hook,
      `import { registerHooks } from "node:module";
import { writeFileSync } from "node:fs";
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
process.on("exit", () => writeFileSync(${JSON.stringify(record)}, loaded.join("\\n")));
`,
    );
    const result = await cli(p, ["send", "issue-1", "hi"], "", ["--import", pathToFileURL(hook).href]);
    expect(result.status).toBe(0);
    const files = (await readFile(record, "utf8")).split("\n").filter((url) => url.startsWith("file:"));
    expect(files.filter((url) => /node_modules\//.test(url))).toEqual([]);
    const code = await Promise.all(files.filter((url) => url.includes("/dist/")).map(async (url) => readFile(new URL(url), "utf8")));
    // The bundle keeps each source module's path as a comment: none of these may be in what send loaded.
    const heavy = /^\/\/ (src\/(core\/agents\/presets|core\/templates|services\/templates|adapters\/docker|adapters\/forge|services\/warm)\/|node_modules\/(dockerode|@octokit|handlebars))/m;
    expect(code.filter((text) => heavy.test(text)).map((text) => heavy.exec(text)?.[0])).toEqual([]);
    // bin/cspace, the fast path and the few chunks of the configuration and messaging code: not the full CLI (commander).
    expect(files.filter((url) => url.endsWith("/dist/cli/main.js"))).toEqual([]);
    // The fast path is bundled whole (scripts/bundle-cli.mjs), besides bin/cspace; the worker-reply checks are a file of
    // their own on zod/mini, shared with list and status, so that none of them loads zod's classic API.
    expect(files.filter((url) => url.includes("/dist/")).map((url) => url.replace(/^.*\/dist\//, ""))).toEqual(["cli/fast.js", "core/messaging-worker-replies.js"]);
  });

  it("leaves every form but the plain one to the full CLI: a missing argument and an unknown flag are usage errors", () => {
    const missing = runCli(["send", "issue-1", "--json"]);
    expect(missing.status).toBe(2);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { kind: "user", message: "missing required argument 'text'" } });
    const unknown = runCli(["send", "--colour", "issue-1", "hi"]);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain("unknown option '--colour'");
  });

  it("explains itself in --help with examples and exit codes", () => {
    const help = runCli(["send", "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("echo 'long message' | cspace send issue-12 -");
    expect(help.stdout).toContain("Exit codes: 0 queued (or done, for _coordinator), 2 empty message");
    expect(help.stdout).toContain("cspace send _coordinator \"pause\"");
  });
});
