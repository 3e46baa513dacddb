import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { LABELS } from "../../../src/core/instances/labels.ts";
import { warm } from "../../../src/services/warm/warm.ts";
import { fakePorts } from "../../fakes/ports.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";

const tempDir = useTempDirs("warm-host-label");

async function project(config: Record<string, unknown>) {
  const dir = await tempDir();
  await mkdir(path.join(dir, ".devcontainer"));
  await writeFile(path.join(dir, ".devcontainer", "devcontainer.json"), JSON.stringify({ image: "cspace-base:bookworm" }));
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "demo" }, ...config }));
  return { cwd: dir, env: { CSPACE_RUN_DIR: path.join(dir, "run"), HOME: dir, PATH: process.env.PATH } };
}

describe("warm labels what it makes with its host", () => {
  it.each([
    [{}, "local"],
    [{ workers: { hosts: [{ name: "laptop" }, { name: "big", docker: "ssh://ci@big" }] } }, "laptop"],
  ])("config %j: dev.cspace.host=%s on the local engine's container", async (config, host) => {
    // An engine for "big" too: with several hosts warm asks each what it runs before it places the instance (here on the local host, listed first).
    const ports = fakePorts({ hosts: ["big"] });
    await warm({ ...(await project(config)), instances: ["issue-1"], reset: false, ports: ports.overrides });
    const [container] = ports.runtime.containers.values();
    expect(container?.spec.Labels[LABELS.host]).toBe(host);
    expect(ports.runtimes("big")?.containers.size ?? 0).toBe(0);
  });
});
