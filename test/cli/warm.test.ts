import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import { useTempDirs } from "../support/temp-dirs.ts";

const tempDir = useTempDirs("warm-cli");

describe("cspace warm: flag errors (the built binary)", () => {
  it("refuses --force without --reset with exit 2 before reaching for the engine", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "warm-cli" } }));
    const env = { CSPACE_RUN_DIR: path.join(dir, "run"), DOCKER_HOST: `unix://${dir}/no-engine.sock` };
    const result = runCli(["--cwd", dir, "warm", "issue-1", "--force"], { env });
    expect(result.stderr).toContain("--force only applies to --reset");
    expect(result.status).toBe(2);
  });
});
