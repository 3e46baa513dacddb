import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runCli } from "../support/cli.ts";
import { makeProject } from "../support/temp-project.ts";

// workers.hosts through the built binary, with no engine anywhere: every
// host's address is a socket that does not exist (test/docker/hosts.test.ts
// has the real engine under two names).

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()));
});

async function setup(workers: unknown) {
  const project = await makeProject({ config: { project: { name: "hosts-cli" }, workers } });
  const scratch = await mkdtemp(path.join(os.tmpdir(), "cspace-hosts-"));
  cleanups.push(() => project.remove(), () => rm(scratch, { recursive: true, force: true }));
  // No agent from the developer's own session: an ssh:// host here has no key to log in with.
  const env = { DOCKER_HOST: `unix://${path.join(scratch, "local.sock")}`, CSPACE_RUN_DIR: path.join(scratch, "run"), SSH_AUTH_SOCK: undefined };
  return { dir: project.dir, env, scratch };
}

describe("workers.hosts in the built binary", () => {
  it("refuses an invalid host list with exit 2, naming the key and the file", async () => {
    const { dir, env } = await setup({ hosts: [{ name: "local" }, { name: "big", ssh: { identityFile: "~/.ssh/k" } }] });
    const result = runCli(["list", "--cwd", dir], { env });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(".cspace.json: workers.hosts[1]: ");
    expect(result.stderr).toContain("expected at most one host without docker or kubernetes");
    expect(result.stderr).toContain(".cspace.json: workers.hosts[1].ssh: ");
  });

  it("list names every host that does not answer on a line of its own and still succeeds", async () => {
    const { dir, env, scratch } = await setup({ hosts: [{ name: "local" }, { name: "other", docker: "unix:///nonexistent.sock" }] });
    const text = runCli(["list", "--cwd", dir], { env });
    expect(text.status).toBe(0);
    expect(text.stdout).toContain(`host local did not answer, so its workers are not listed: no Docker engine at unix://${path.join(scratch, "local.sock")}: the socket does not exist`);
    expect(text.stdout).toContain("host other did not answer, so its workers are not listed: no Docker engine at unix:///nonexistent.sock: the socket does not exist");
    const json = runCli(["list", "--json", "--cwd", dir], { env });
    expect(json.status).toBe(0);
    const listing = JSON.parse(json.stdout) as { instances: unknown[]; unreachableHosts: { host: string }[] };
    expect(listing.instances).toEqual([]);
    expect(listing.unreachableHosts.map((h) => h.host)).toEqual(["local", "other"]);
  });

  it("down --all with no host answering fails naming the first, and exec names the host it could not ask", async () => {
    const { dir, env, scratch } = await setup({ hosts: [{ name: "local" }, { name: "other", docker: "unix:///nonexistent.sock" }] });
    const down = runCli(["down", "--all", "--cwd", dir], { env });
    expect(down.status).toBe(3);
    expect(down.stderr).toContain(`host local: no Docker engine at unix://${path.join(scratch, "local.sock")}: the socket does not exist`);
    const exec = runCli(["--cwd", dir, "exec", "w-1", "--", "true"], { env });
    expect(exec.status).toBe(3);
    expect(exec.stderr).toContain("host local: no Docker engine at");
  });

  it("doctor fails the check of an ssh:// host it has no key for, saying what to give it", async () => {
    const { dir, env } = await setup({ hosts: [{ name: "big", docker: "ssh://ci@build-1.invalid", slots: 12 }] });
    const result = runCli(["doctor", "--json", "--cwd", dir], { env });
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as { checks: { id: string; title: string; status: string; detail: string }[] };
    expect(report.checks.filter((c) => c.id === "host")).toMatchObject([{ title: "Host big", status: "fail", detail: "host big: no key to log in to ssh://ci@build-1.invalid with: no ssh.identityFile, and no SSH agent (SSH_AUTH_SOCK is unset)" }]);
  });
});
