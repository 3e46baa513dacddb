import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import { useTempDirs } from "../support/temp-dirs.ts";

const tempDir = useTempDirs("up-cli");

/** A project with no engine reachable: these refusals must come before any Docker call. */
async function project(): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await tempDir();
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "up-cli" } }));
  return { dir, env: { CSPACE_RUN_DIR: path.join(dir, "run"), DOCKER_HOST: `unix://${dir}/no-engine.sock` } };
}

describe("cspace up, issue, interrupt and restart: argument errors and help (the built binary)", () => {
  it("refuses a missing, doubled or empty prompt with exit 2 before reaching for the engine", async () => {
    const p = await project();
    const cases: [readonly string[], string][] = [
      [["up", "issue-1"], "say what the agent should do: --prompt <text> or --prompt-file <file>"],
      [["up", "issue-1", "--prompt", "a", "--prompt-file", "b.md"], "give --prompt or --prompt-file, not both"],
      [["up", "issue-1", "--prompt", "   "], "the prompt is empty"],
      [["up", "issue-1", "--prompt-file", "missing.md"], "cannot read the prompt file missing.md"],
      [["up", "Bad Name", "--prompt", "x"], "invalid instance name"],
      [["issue", "twelve"], '"twelve" is not an issue number'],
    ];
    for (const [args, message] of cases) {
      const result = runCli(["--cwd", p.dir, ...args], { env: p.env });
      expect(result.stderr).toContain(message);
      expect(result.status).toBe(2);
    }
  });

  it("restart of an instance that never ran an agent, and interrupt with no supervisor, say what to do", async () => {
    const p = await project();
    const interrupt = runCli(["--cwd", p.dir, "interrupt", "issue-1", "--json"], { env: p.env });
    expect(interrupt.status).toBe(3);
    expect(JSON.parse(interrupt.stdout)).toMatchObject({ error: { kind: "external", message: expect.stringContaining('no supervisor is running for instance "issue-1"') as unknown } });
    const restart = runCli(["--cwd", p.dir, "restart", "issue-1"], { env: p.env });
    expect(restart.status).toBe(2);
    expect(restart.stderr).toContain('no agent was ever started in instance "issue-1"');
    expect(restart.stderr).toContain("hint: cspace up issue-1");
  });

  it("documents every worker command with examples and exit codes", () => {
    for (const [command, example] of [
      ["up", 'cspace up issue-12 --prompt "fix the flaky test" --follow'],
      ["issue", "cspace issue 12"],
      ["logs", "cspace logs issue-12 -f"],
      ["status", "cspace status issue-12"],
      ["interrupt", "cspace interrupt issue-12"],
      ["restart", 'cspace restart issue-12 --reason "stuck on a prompt"'],
      ["list", "cspace list --json"],
    ] as const) {
      const help = runCli([command, "--help"]);
      expect(help.status).toBe(0);
      expect(help.stdout).toContain(example);
    }
    const top = runCli(["--help"]).stdout;
    for (const command of ["up", "issue", "send", "logs", "status", "interrupt", "restart"]) expect(top).toMatch(new RegExp(`^  ${command} `, "m"));
  });
});
