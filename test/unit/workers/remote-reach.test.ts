import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ExternalError } from "../../../src/core/errors.ts";
import { instanceStatus } from "../../../src/services/workers/status.ts";
import { fakePorts } from "../../fakes/ports.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";

// `status <instance>` with several hosts and nothing serving the instance's
// w.sock here (no coordinator): the worker is looked for on every host, and
// a host that does not answer is named, even though this machine keeps a
// directory for the instance (its copy cannot answer for the worker). The
// real thing, over SSH: test/docker/up-remote.test.ts.

const tempDir = useTempDirs("remote-reach");

async function project(): Promise<{ cwd: string; env: NodeJS.ProcessEnv; runDir: string }> {
  const dir = await tempDir();
  await mkdir(path.join(dir, ".devcontainer"));
  await writeFile(path.join(dir, ".devcontainer", "devcontainer.json"), JSON.stringify({ image: "cspace-base:bookworm" }));
  const hosts = [{ name: "local" }, { name: "big", docker: "ssh://ci@big.invalid", slots: 2 }];
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "demo" }, workers: { hosts } }));
  const runDir = path.join(dir, "run");
  return { cwd: dir, env: { CSPACE_RUN_DIR: runDir, CSPACE_DATA_DIR: path.join(dir, "data"), HOME: dir, PATH: process.env.PATH }, runDir };
}

describe("a command reaching a worker with no coordinator, with several hosts", () => {
  it("names the host that does not answer (exit 3), though this machine has a directory for the instance", async () => {
    const where = await project();
    // No fake engine for big: opening it fails as an unreachable host's would.
    const ports = fakePorts();
    await mkdir(path.join(where.runDir, "issue-2"), { recursive: true, mode: 0o700 });
    const asked = instanceStatus({ cwd: where.cwd, env: where.env, instance: "issue-2", ports: ports.overrides });
    await expect(asked).rejects.toThrow(ExternalError);
    await expect(asked).rejects.toThrow(/host big/);
  });
});
