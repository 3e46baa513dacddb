import { execFileSync } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
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

  it("refuses a devcontainer that adds NET_ADMIN or NET_RAW to a worker whose network is confined, naming the key, with exit 2 before reaching for the engine", async () => {
    for (const [network, devcontainer, cap] of [
      ["none", { image: "cspace-base:bookworm", capAdd: ["NET_ADMIN"] }, "NET_ADMIN"],
      [{ allow: ["registry.npmjs.org"] }, { image: "cspace-base:bookworm", runArgs: ["--cap-add=NET_RAW"] }, "NET_RAW"],
    ] as const) {
      const dir = await tempDir();
      await mkdir(path.join(dir, ".devcontainer"));
      await writeFile(path.join(dir, ".devcontainer", "devcontainer.json"), JSON.stringify(devcontainer));
      await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "warm-cli" }, container: { network } }));
      const git = (...args: string[]): string => execFileSync("git", ["-C", dir, "-c", "user.name=t", "-c", "user.email=t@t.invalid", ...args], { encoding: "utf8" });
      git("init", "-q", "-b", "main");
      git("add", "-A");
      git("commit", "-qm", "init");
      const env = { CSPACE_RUN_DIR: path.join(dir, "run"), DOCKER_HOST: `unix://${dir}/no-engine.sock` };
      const result = runCli(["--cwd", dir, "warm", "issue-1"], { env });
      expect(result.stderr).toContain(`devcontainer.json: capAdd (or runArgs --cap-add) asks for ${cap}, which would let the worker undo its network confinement`);
      expect(result.status).toBe(2);
    }
  });
});
