import { describe, expect, inject, it } from "vitest";
import { presetNamed } from "../../src/core/agents/presets/index.ts";
import { CLAUDE_IMAGE_DEVCONTAINER, claudeImageFiles } from "../support/claude-image.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { testDocker } from "../support/docker.ts";
import { useFixtureRepos } from "../support/fixture-instances.ts";

/**
 * A project whose own image lacks the agent's CLI (design §7): the first
 * launch installs the preset's pinned npm package as root with the image's
 * npm, and the agent runs; later launches find it. The image's npm is a
 * stand-in that records how it was called and installs the claude stand-in
 * (the registry is not reachable here); everything else is real: the
 * engine, the supervisor, the claude preset's invocation.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const fixture = useFixtureRepos(docker, runId);

describe("the agent's CLI missing from a project's image", () => {
  it("is installed with the image's npm at the first launch, once, and the claude agent then runs", async () => {
    const repo = await fixture("agent-install", {
      devcontainer: CLAUDE_IMAGE_DEVCONTAINER,
      config: { agent: { preset: "claude" } },
      files: await claudeImageFiles(runId, { installed: false }),
    });
    const cli = (args: readonly string[]) => runCliAsync(["--cwd", repo.dir, ...args], { env: repo.env });
    const spec = presetNamed("claude")?.npmPackage ?? "";

    const up = await cli(["up", "w1", "--prompt", "Say hello.", "--follow"]);
    expect(up.status, up.stderr).toBe(0);
    expect(up.stderr).toContain(`w1: installing ${spec} (claude is not in the image)…`);
    expect((await cli(["exec", "w1", "--", "cat", "/var/log/npm-calls"])).stdout).toBe(`install --global --no-audit --no-fund --loglevel=error ${spec}\n`);
    // The container user runs what root installed.
    expect((await cli(["exec", "w1", "--", "sh", "-c", "id -un; command -v claude"])).stdout).toBe("dev\n/usr/local/bin/claude\n");

    // Started again: found, not installed again.
    const restarted = await cli(["restart", "w1", "--reason", "again"]);
    expect(restarted.status, restarted.stderr).toBe(0);
    expect(restarted.stderr).not.toContain("installing");
    expect((await cli(["exec", "w1", "--", "cat", "/var/log/npm-calls"])).stdout.split("\n").filter(Boolean)).toHaveLength(1);
  }, 240_000);
});
