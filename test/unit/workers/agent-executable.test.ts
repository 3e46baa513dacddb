import { describe, expect, it } from "vitest";
import { presetNamed } from "../../../src/core/agents/presets/index.ts";
import type { AgentPreset } from "../../../src/core/agents/preset.ts";
import { ExternalError, UserError } from "../../../src/core/errors.ts";
import type { ExecOutcome } from "../../../src/core/instances/ports.ts";
import { ensureAgentExecutable } from "../../../src/services/workers/agent-executable.ts";
import { FakeContainerRuntime } from "../../fakes/container-runtime.ts";

/**
 * The agent's CLI in the worker (design §7): found on the container user's
 * PATH, else installed with the image's npm as root (the preset's pinned
 * package, or agent.package), else refused naming the package and the
 * Dockerfile line.
 */

const claude = presetNamed("claude") as AgentPreset;
const result = (exitCode: number, stdout = "", stderr = ""): ExecOutcome => ({ exitCode, stdout, stderr });

/** A container where `executables` are on PATH; npm install (when npm is there) adds what `installs` lists, or fails with `failWith`. */
async function container(options: { executables: string[]; npm: boolean; installs?: string[]; failWith?: string }) {
  const runtime = new FakeContainerRuntime();
  const id = await runtime.create({ name: "c", Image: "cspace-base:bookworm", Env: [], Labels: {}, WorkingDir: "/w", HostConfig: { Mounts: [] } });
  await runtime.start(id);
  const onPath = new Set(options.executables);
  const installs: { spec: string; user: string | undefined }[] = [];
  runtime.onExec(({ command, options: exec }) => {
    if (command[0] === "/bin/sh" && command[2]?.startsWith("command -v")) {
      const name = command[4] ?? "";
      return result(name === "npm" ? (options.npm ? 0 : 1) : onPath.has(name) ? 0 : 1);
    }
    if (command[0] === "npm" && command[1] === "install") {
      installs.push({ spec: command.at(-1) ?? "", user: exec.user });
      if (options.failWith !== undefined) return result(1, "", `npm ERR! ${options.failWith}\n`);
      for (const name of options.installs ?? []) onPath.add(name);
      return result(0);
    }
    if (command[0] === "npm" && command[1] === "prefix") return result(0, "/usr/local\n");
    return undefined;
  });
  return { runtime, id, installs };
}

describe("ensureAgentExecutable", () => {
  it("does nothing when the executable is on the container user's PATH", async () => {
    const c = await container({ executables: ["claude"], npm: true });
    await ensureAgentExecutable(c.runtime, c.id, { preset: claude, packageSpec: undefined, access: { user: "node" } });
    expect(c.installs).toEqual([]);
  });

  it("installs the preset's pinned package as root when it is missing, saying so, and finds it afterwards", async () => {
    const c = await container({ executables: [], npm: true, installs: ["claude"] });
    const notices: string[] = [];
    await ensureAgentExecutable(c.runtime, c.id, { preset: claude, packageSpec: undefined, access: { user: "node" }, onNotice: (text) => notices.push(text) });
    expect(c.installs).toEqual([{ spec: claude.npmPackage, user: "0" }]);
    expect(claude.npmPackage).toMatch(/^@anthropic-ai\/claude-code@\d+\.\d+\.\d+$/);
    expect(notices).toEqual([`installing ${String(claude.npmPackage)} (claude is not in the image)…`]);
  });

  it("installs agent.package instead when it is set", async () => {
    const c = await container({ executables: [], npm: true, installs: ["claude"] });
    await ensureAgentExecutable(c.runtime, c.id, { preset: claude, packageSpec: "/opt/claude-2.0.0.tgz", access: {} });
    expect(c.installs.map((i) => i.spec)).toEqual(["/opt/claude-2.0.0.tgz"]);
  });

  it("refuses, naming the package and the Dockerfile line, when the image has no npm", async () => {
    const c = await container({ executables: [], npm: false });
    const refused = ensureAgentExecutable(c.runtime, c.id, { preset: claude, packageSpec: undefined, access: {} });
    await expect(refused).rejects.toThrow(UserError);
    await expect(refused).rejects.toThrow(`the claude agent's executable "claude" is not on the container user's PATH, and the image has no npm to install ${String(claude.npmPackage)} with`);
    await expect(refused).rejects.toMatchObject({ hint: `add \`RUN npm install -g ${String(claude.npmPackage)}\` to the image's Dockerfile` });
  });

  it("reports a failed install with npm's own words (exit 3 territory: the registry, not the user)", async () => {
    const c = await container({ executables: [], npm: true, failWith: "network request to https://registry.npmjs.org failed" });
    const failed = ensureAgentExecutable(c.runtime, c.id, { preset: claude, packageSpec: undefined, access: {} });
    await expect(failed).rejects.toThrow(ExternalError);
    await expect(failed).rejects.toThrow("npm ERR! network request to https://registry.npmjs.org failed");
  });

  it("says where npm put it when the install did not bring it onto the user's PATH", async () => {
    const c = await container({ executables: [], npm: true, installs: [] });
    const refused = ensureAgentExecutable(c.runtime, c.id, { preset: claude, packageSpec: undefined, access: {} });
    await expect(refused).rejects.toThrow(`installed ${String(claude.npmPackage)}, but "claude" is still not on the container user's PATH`);
    await expect(refused).rejects.toMatchObject({ hint: expect.stringContaining("npm's global bin is /usr/local/bin") as string });
  });

  it("refuses a preset that is not on npm with what to install", async () => {
    const aider = presetNamed("aider") as AgentPreset;
    const c = await container({ executables: [], npm: true });
    await expect(ensureAgentExecutable(c.runtime, c.id, { preset: aider, packageSpec: undefined, access: {} })).rejects.toMatchObject({ hint: "install aider in the image" });
    expect(c.installs).toEqual([]);
  });
});
