import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { instancePaths, type InstancePaths } from "../../src/services/workers/instance-files.ts";
import { runCli } from "../support/cli.ts";
import { useTempDirs } from "../support/temp-dirs.ts";

const tempDir = useTempDirs("logs-cli");

const event = (ts: string, source: string, type: string, text?: string): string => `${JSON.stringify({ ts, source, type, ...(text === undefined ? {} : { text }) })}\n`;

async function project(): Promise<{ dir: string; env: NodeJS.ProcessEnv; paths: InstancePaths }> {
  const dir = await tempDir();
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "logs-cli" } }));
  const runDir = path.join(dir, "run");
  const paths = instancePaths(runDir, "issue-1");
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  await writeFile(paths.eventsRotated, event("2020-01-01T10:00:00.000Z", "supervisor", "started", "node agent"));
  await writeFile(paths.events, event("2020-01-01T10:00:01.000Z", "agent", "text", "hello\nsecond line") + event(new Date().toISOString(), "message", "queued", "please rebase"));
  return { dir, env: { CSPACE_RUN_DIR: runDir }, paths };
}

describe("cspace logs (the built binary)", () => {
  it("prints the rotated file, then the current one: time, source, type, text", async () => {
    const p = await project();
    const result = runCli(["--cwd", p.dir, "logs", "issue-1"], { env: p.env });
    expect(result.status).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^2020-01-01 \d\d:\d\d:00\.000 {2}supervisor +started +node agent$/);
    expect(lines[1]).toMatch(/ agent +text +hello$/);
    expect(lines[2]).toMatch(/^ +second line$/);
    expect(lines[3]).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}message +queued +please rebase$/);
  });

  it("--json prints the raw lines; --since keeps the recent ones", async () => {
    const p = await project();
    const json = runCli(["--cwd", p.dir, "logs", "issue-1", "--json"], { env: p.env });
    expect(json.stdout.trimEnd().split("\n").map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(["started", "text", "queued"]);
    const recent = runCli(["--cwd", p.dir, "logs", "issue-1", "--since", "1h", "--json"], { env: p.env });
    expect(recent.stdout.trimEnd().split("\n").map((l) => (JSON.parse(l) as { type: string }).type)).toEqual(["queued"]);
    const bad = runCli(["--cwd", p.dir, "logs", "issue-1", "--since", "last week"], { env: p.env });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("is neither a duration nor a time");
  });

  it("-f ends by itself when no supervisor answers: nothing more can come", async () => {
    const p = await project();
    const result = runCli(["--cwd", p.dir, "logs", "issue-1", "-f", "--json"], { env: p.env });
    expect(result.status).toBe(0);
    expect(result.stdout.trimEnd().split("\n")).toHaveLength(3);
  });

  it("names an unknown instance (exit 2)", async () => {
    const p = await project();
    const result = runCli(["--cwd", p.dir, "logs", "issue-7"], { env: p.env });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('there is no instance "issue-7" in this project');
  });
});
