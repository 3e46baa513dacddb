import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { scriptedPreset } from "../../../src/core/agents/presets/scripted.ts";
import { drive, FIXTURES, recorded, startInput } from "./drive.ts";
import { ofType, runScripted } from "./run-scripted.ts";
import { testWorkspace, type TestWorkspace } from "./workspace.ts";

let ws: TestWorkspace;
beforeEach(() => (ws = testWorkspace()));
afterEach(() => {
  ws.remove();
});

const subjects = () => ws.git("log", "--format=%s").split("\n");

/** A stand-in cspace CLI in the test's folder: appends its argv (JSON) to argv.log, then exits with `code`. */
function cspaceStandIn(code: number): { cli: string; calls: () => string[][] } {
  const cli = path.join(ws.root, "cspace-standin.cjs");
  const log = path.join(ws.root, "argv.log");
  const script = `#!/usr/bin/env node\nrequire("node:fs").appendFileSync(${JSON.stringify(log)}, JSON.stringify(process.argv.slice(2)) + "\\n");\nprocess.exit(${String(code)});\n`;
  writeFileSync(cli, script);
  chmodSync(cli, 0o755);
  const calls = () => (existsSync(log) ? readFileSync(log, "utf8").split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as string[]) : []);
  return { cli, calls };
}

describe("the scripted agent", () => {
  it("with no instructions, commits one file named after the instance and exits 0", async () => {
    const run = await runScripted("Please fix the login page.", { cwd: ws.cwd, env: { ...ws.env, CSPACE_INSTANCE: "issue-7" } });
    expect(run.code).toBe(0);
    expect(subjects()).toEqual(["scripted: issue-7.txt", "start"]);
    expect(readFileSync(path.join(ws.cwd, "issue-7.txt"), "utf8")).toBe("issue-7: done by the scripted agent\n");
    expect(ofType(run, "result")).toEqual([
      { type: "result", session_id: ofType(run, "init")[0]?.session_id, num_turns: 1, total_cost_usd: 0, result: "done", is_error: false },
    ]);
  });

  it("follows its instructions in order, ignoring other text, and commits on the current branch", async () => {
    ws.git("checkout", "--quiet", "-b", "issue-12");
    const prompt = ["# Issue 12", "", "cspace-script: commit src/a.txt first file", "Some prose that is not an instruction.", "  - cspace-script: sleep 0", "> cspace-script: commit b.txt"].join("\n");
    const run = await runScripted(prompt, { cwd: ws.cwd, env: ws.env });
    expect(run.code).toBe(0);
    expect(ofType(run, "step").map((event) => event.text)).toEqual(["commit src/a.txt first file", "sleep 0", "commit b.txt"]);
    expect(ws.git("log", "--format=%s", "issue-12")).toBe("scripted: b.txt\nscripted: src/a.txt\nstart");
    expect(ws.git("log", "--format=%s", "main")).toBe("start");
    expect(readFileSync(path.join(ws.cwd, "src/a.txt"), "utf8")).toBe("first file\n");
    expect(ofType(run, "commit")[1]).toEqual({ type: "commit", sha: ws.git("rev-parse", "HEAD"), path: "b.txt" });
  });

  it("prints and logs every message, and runs the instructions in it", async () => {
    const run = await runScripted("cspace-script: sleep 0.05\ncspace-script: commit a.txt a", {
      cwd: ws.cwd,
      env: ws.env,
      messages: ["Rebase please.\ncspace-script: commit from-message.txt hello", "second"],
    });
    expect(run.code).toBe(0);
    expect(ofType(run, "message").map((event) => event.text)).toEqual(["Rebase please.\ncspace-script: commit from-message.txt hello", "second"]);
    expect(readFileSync(path.join(ws.cwd, ".cspace-messages.log"), "utf8")).toBe("Rebase please.\ncspace-script: commit from-message.txt hello\nsecond\n");
    // Messages queued during the sleep are taken before the next instruction.
    expect(subjects()).toEqual(["scripted: a.txt", "scripted: from-message.txt", "start"]);
  });

  it("fails with the code asked for, after the work before it", async () => {
    const run = await runScripted("cspace-script: commit a.txt a\ncspace-script: fail 3\ncspace-script: commit b.txt b", { cwd: ws.cwd, env: ws.env });
    expect(run.code).toBe(3);
    expect(subjects()).toEqual(["scripted: a.txt", "start"]);
    expect(ofType(run, "result")[0]).toMatchObject({ is_error: true, result: "failed on purpose with exit code 3" });
  });

  it("crashes: killed by SIGKILL, with no result line", async () => {
    const run = await runScripted("cspace-script: crash\ncspace-script: commit a.txt a", { cwd: ws.cwd, env: ws.env });
    expect(run.signal).toBe("SIGKILL");
    expect(run.code).toBeNull();
    expect(ofType(run, "result")).toEqual([]);
    expect(subjects()).toEqual(["start"]);
  });

  it("reports blocked through the in-container cspace CLI, then exits 0", async () => {
    const instanceDir = path.join(ws.root, "instance");
    const env = { ...ws.env, CSPACE_CLI: path.join(FIXTURES, "cspace"), CSPACE_INSTANCE_DIR: instanceDir };
    const run = await runScripted("cspace-script: blocked need the schema from #10\ncspace-script: commit a.txt a", { cwd: ws.cwd, env });
    expect(run.code).toBe(0);
    expect(recorded(ws.log).map((entry) => entry.argv)).toEqual([["blocked", "need the schema from #10"]]);
    expect(JSON.parse(readFileSync(path.join(instanceDir, "blocked.json"), "utf8"))).toMatchObject({ reason: "need the schema from #10" });
    expect(ofType(run, "result")[0]).toMatchObject({ is_error: false, result: "blocked: need the schema from #10" });
    expect(subjects()).toEqual(["start"]);
  });

  it("writes blocked.json itself where no cspace CLI exists", async () => {
    const instanceDir = path.join(ws.root, "instance");
    const env = { ...ws.env, CSPACE_CLI: path.join(ws.root, "no-such-cspace"), CSPACE_INSTANCE_DIR: instanceDir };
    const run = await runScripted("cspace-script: blocked flaky CI", { cwd: ws.cwd, env });
    expect(run.code).toBe(0);
    expect(JSON.parse(readFileSync(path.join(instanceDir, "blocked.json"), "utf8"))).toMatchObject({ reason: "flaky CI" });
  });

  it("says something to the coordinator through the in-container cspace CLI, then goes on", async () => {
    const standIn = cspaceStandIn(0);
    const run = await runScripted("cspace-script: say needs the schema from #10\ncspace-script: commit a.txt a", { cwd: ws.cwd, env: { ...ws.env, CSPACE_CLI: standIn.cli } });
    expect(run.code).toBe(0);
    expect(standIn.calls()).toEqual([["send", "_coordinator", "needs the schema from #10"]]);
    expect(ofType(run, "step").map((event) => event.text)).toEqual(["say needs the schema from #10", "commit a.txt a"]);
    expect(ofType(run, "text").map((event) => event.text)).toContain(`said: ${standIn.cli} send _coordinator "needs the schema from #10"`);
    expect(subjects()).toEqual(["scripted: a.txt", "start"]);
    expect(ofType(run, "result")[0]).toMatchObject({ is_error: false, result: "done" });
  });

  it("fails the run, naming say, when the cspace CLI exits non-zero", async () => {
    const standIn = cspaceStandIn(3);
    const run = await runScripted("cspace-script: say hello\ncspace-script: commit a.txt a", { cwd: ws.cwd, env: { ...ws.env, CSPACE_CLI: standIn.cli } });
    expect(run.code).toBe(1);
    expect(standIn.calls()).toEqual([["send", "_coordinator", "hello"]]);
    expect(ofType(run, "result")[0]).toMatchObject({ is_error: true, result: `say failed: ${standIn.cli} send _coordinator exited with 3` });
    expect(subjects()).toEqual(["start"]);
  });

  it("fails the run, naming say, where no cspace CLI exists", async () => {
    const missing = path.join(ws.root, "no-such-cspace");
    const run = await runScripted("cspace-script: say hello\ncspace-script: commit a.txt a", { cwd: ws.cwd, env: { ...ws.env, CSPACE_CLI: missing } });
    expect(run.code).toBe(1);
    expect(ofType(run, "result")[0]).toMatchObject({ is_error: true, result: `say failed: no ${missing} executable to send the message with` });
    expect(subjects()).toEqual(["start"]);
  });

  it.each([
    ["an unknown instruction", "cspace-script: dance", /unknown instruction "dance"/],
    ["a bad exit code", "cspace-script: fail 300", /exit code from 0 to 255/],
    ["a path outside the workspace", "cspace-script: commit ../escape.txt x", /outside the workspace/],
  ])("fails on %s, naming it", async (_name, prompt, message) => {
    const run = await runScripted(prompt, { cwd: ws.cwd, env: ws.env });
    expect(run.code).not.toBe(0);
    expect(ofType(run, "error").map((event) => event.text).join("\n")).toMatch(message);
    expect(existsSync(path.join(ws.root, "escape.txt"))).toBe(false);
  });

  it("exits 2 when stdin ends before the prompt, and on an unknown argument", async () => {
    expect((await runScripted(null, { cwd: ws.cwd, env: ws.env })).code).toBe(2);
    expect((await runScripted("hi", { cwd: ws.cwd, env: ws.env, args: ["--colour", "blue"] })).code).toBe(2);
  });

  it("lets wait-message take a message that came in before it", async () => {
    const run = await runScripted("cspace-script: commit a.txt a\ncspace-script: wait-message\ncspace-script: commit c.txt c", {
      cwd: ws.cwd,
      env: ws.env,
      messages: ["cspace-script: commit b.txt b", "cspace-script: commit d.txt d"],
    });
    expect(run.code).toBe(0);
    // No idle: the message was already there. The second one is taken before the next instruction.
    expect(ofType(run, "idle")).toEqual([]);
    expect(subjects()).toEqual(["scripted: c.txt", "scripted: d.txt", "scripted: b.txt", "scripted: a.txt", "start"]);
  });

  it("goes on past wait-message once stdin has ended", async () => {
    const run = await runScripted("cspace-script: wait-message\ncspace-script: commit a.txt a", { cwd: ws.cwd, env: ws.env });
    expect(run.code).toBe(0);
    expect(subjects()).toEqual(["scripted: a.txt", "start"]);
  });
});

describe("the scripted preset, driven like the supervisor drives it", () => {
  it("waits for a message when told, takes it as a new turn on stdin, and reports two turns at cost 0", async () => {
    const prompt = "cspace-script: commit a.txt a\ncspace-script: wait-message\ncspace-script: commit c.txt c";
    const result = await drive(scriptedPreset, startInput({ prompt }), {
      cwd: ws.cwd,
      env: ws.env,
      messages: ["Also this.\ncspace-script: commit b.txt from the message"],
    });
    expect(result.runs).toEqual([{ code: 0, signal: null, stderr: "" }]);
    expect(result.sessionId).toMatch(/^scripted-/);
    expect(result.turns).toBe(2);
    expect(result.costUsd).toBe(0);
    expect(result.finalText).toBe("done");
    expect(result.events.filter((event) => event.type === "message").map((event) => event.text)).toEqual(["Also this.\ncspace-script: commit b.txt from the message"]);
    expect(subjects()).toEqual(["scripted: c.txt", "scripted: b.txt", "scripted: a.txt", "start"]);
  });
});
