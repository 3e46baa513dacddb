import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";

/** Makes the running Node report an old version before the shim looks at it. */
const pretendOldNode = fileURLToPath(new URL("../support/pretend-old-node.mjs", import.meta.url));

describe("bin/cspace", () => {
  it("lists every command with one line each", () => {
    const result = runCli(["--help"]);
    expect(result.status).toBe(0);
    for (const command of ["init", "doctor", "plan"]) expect(result.stdout).toMatch(new RegExp(`^  ${command}\\b.+`, "m"));
    expect(result.stdout).toContain("Exit codes:");
  });

  it("prints the version", () => {
    const result = runCli(["--version"]);
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("exits 2 on an unknown command, with a suggestion", () => {
    const result = runCli(["plna"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("Did you mean plan?");
  });

  it("refuses an old Node with one line naming the required version", () => {
    const result = runCli(["--help"], {
      env: { NODE_OPTIONS: `--import=${pretendOldNode}`, CSPACE_NO_LOCAL_NODE: "1" },
    });
    expect(result.status).toBe(3);
    expect(result.stdout).toBe("");
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/needs Node\.js 22\.13 or newer; this is v20\.11\.1 /);
  });
});
