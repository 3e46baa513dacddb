import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import { useTempDirs } from "../support/temp-dirs.ts";

const tempDir = useTempDirs("token-cli");

/**
 * The forge token in `agent.env` or `container.env` is refused with the other
 * credential checks (issue 12, item 9): exit 2, naming the file and the key,
 * before anything is made. No engine is reachable here: a refusal that came
 * after the container (as it did) would be exit 3 instead.
 */
async function project(local: unknown): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await tempDir();
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "token-cli" } }));
  await writeFile(path.join(dir, ".cspace.local.json"), JSON.stringify(local));
  return { dir, env: { CSPACE_RUN_DIR: path.join(dir, "run"), DOCKER_HOST: `unix://${dir}/no-engine.sock` } };
}

describe("a forge token variable in the config's environments", () => {
  it("is refused by warm, up and coordinate with exit 2, naming the file and the key, before the engine is asked", async () => {
    const p = await project({ agent: { env: { GH_TOKEN: "ghp_0123456789abcdef0123456789abcdef0123" } } });
    for (const args of [["warm", "issue-1"], ["up", "issue-1", "--prompt", "hello"], ["coordinate", "1"]]) {
      const result = runCli(["--cwd", p.dir, ...args], { env: p.env });
      expect([args[0], result.status]).toEqual([args[0], 2]);
      expect(result.stderr).toContain(".cspace.local.json: agent.env.GH_TOKEN: GH_TOKEN is a forge token variable");
    }
  });

  it("is refused in container.env the same way", async () => {
    const p = await project({ container: { env: { GITHUB_TOKEN: "x" } } });
    const result = runCli(["--cwd", p.dir, "warm", "issue-1"], { env: p.env });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(".cspace.local.json: container.env.GITHUB_TOKEN: GITHUB_TOKEN is a forge token variable");
  });
});
