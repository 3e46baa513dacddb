import { readdir } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import { useTempDirs } from "../support/temp-dirs.ts";

const tempDir = useTempDirs("json-errors");

interface JsonError {
  error: { kind: string; message: string; hint: string | null };
}

/** The one JSON document a script reads from stdout, or a failure saying what came instead. */
function errorDocument(stdout: string): JsonError {
  expect(stdout.trim(), "stdout should hold one JSON error object").not.toBe("");
  return JSON.parse(stdout) as JsonError;
}

// Flag errors are found by commander before any command runs; nothing here needs a project.
describe("--json and usage errors", () => {
  it.each([
    ["an unknown option", ["--json", "plan", "--no-such-flag"], /unknown option '--no-such-flag'/],
    ["a missing option argument", ["--json", "plan", "--label"], /option '--label <label>' argument missing/],
    ["a bad --format choice", ["--json", "plan", "--format", "xml"], /'xml' is invalid.*table, json, mermaid/],
    ["a missing command argument", ["--json", "warm"], /missing required argument 'instances'/],
    ["an unknown command", ["--json", "nope"], /unknown command 'nope'/],
    ["an unknown top-level option", ["--json", "--no-such-flag"], /unknown option '--no-such-flag'/],
  ])("prints the error object for %s, exit 2", (_what, args, message) => {
    const result = runCli(args);
    expect(result.status).toBe(2);
    const { error } = errorDocument(result.stdout);
    expect(error.kind).toBe("user");
    expect(error.message).toMatch(message);
    expect(error.message).not.toMatch(/^error:/);
    expect(error.hint).toMatch(/--help/);
    // People still read the complaint on stderr.
    expect(result.stderr).toMatch(message);
  });

  it("carries commander's suggestion as the hint", () => {
    const result = runCli(["--json", "plna"]);
    expect(result.status).toBe(2);
    expect(errorDocument(result.stdout).error).toEqual({ kind: "user", message: "unknown command 'plna'", hint: "Did you mean plan?" });
  });

  it("keeps stdout empty without --json, and --json after -- is the command's, not cspace's", () => {
    const plain = runCli(["plan", "--no-such-flag"]);
    expect(plain.status).toBe(2);
    expect(plain.stdout).toBe("");
    expect(plain.stderr).toMatch(/^error: unknown option/m);
    const passedOn = runCli(["exec", "Bad!", "--", "--json"]);
    expect(passedOn.status).toBe(2);
    expect(passedOn.stderr).toMatch(/invalid instance name "Bad!"/);
    expect(passedOn.stdout).toBe("");
  });

  it("prints nothing on stdout for --help and --version but their own text", () => {
    const help = runCli(["--json", "plan", "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^Usage: cspace plan/);
  });
});

describe("instance names git refuses as a branch", () => {
  it.each(["a..b", "a.", "x.lock"])("%j fails with exit 2 before anything is made", async (name) => {
    const scratch = await tempDir();
    const env = { CSPACE_DATA_DIR: path.join(scratch, "data"), CSPACE_RUN_DIR: path.join(scratch, "run"), DOCKER_HOST: `unix://${path.join(scratch, "none.sock")}` };
    const result = runCli(["--json", "--cwd", scratch, "warm", name], { env });
    expect(result.status).toBe(2);
    expect(errorDocument(result.stdout).error.message).toContain(`invalid instance name "${name}": it is also the workspace's git branch`);
    expect(await readdir(scratch)).toEqual([]);
  });
});
