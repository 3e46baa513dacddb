import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DockerRuntime } from "../../src/adapters/docker/containers.ts";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { instancePaths } from "../../src/services/workers/instance-files.ts";
import { waitForEvent, waitingForMessage, script } from "../docker/worker-fixture.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { repoRoot, type CliResult } from "../support/cli.ts";
import { BASE_IMAGE, testDocker } from "../support/docker.ts";
import { makeFixtureRepo, type FixtureRepo } from "../support/fixture-repo.ts";

/**
 * A prompt-injected agent in cspace's default worker tries to become root,
 * to mount, to reach the engine, and to exhaust the host's processes. The
 * worker is cspace's own .devcontainer (the Dockerfile as shipped, plus this
 * run's label so teardown removes the image), warmed and running the scripted
 * agent; every attack runs as that agent's user, through `cspace exec`.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const runtime = new DockerRuntime(process.env);
/** Low enough that the fork bomb ends quickly on a busy machine; the default (4096) is checked as data. */
const PIDS_LIMIT = 256;
/** The seven capabilities workers keep (create-options.ts WORKER_CAPABILITIES) as the kernel's bit mask: 0, 1, 3, 4, 5, 6, 7. */
const KEPT_CAPABILITIES = "00000000000000fb";

let repo: FixtureRepo;
let containerId = "";
const cli = (args: readonly string[]): Promise<CliResult> => runCliAsync(["--cwd", repo.dir, ...args], { env: repo.env });

async function asAgent(command: string): Promise<CliResult> {
  return cli(["exec", "w1", "--", "sh", "-c", command]);
}

async function containersOf(fixture: FixtureRepo): Promise<string[]> {
  const id = projectId(fixture.projectName, fixture.dir);
  return (await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } })).map((c) => c.Id);
}

async function removeProject(fixture: FixtureRepo): Promise<void> {
  await Promise.all((await containersOf(fixture)).map((id) => docker.getContainer(id).remove({ force: true })));
  await fixture.remove();
}

beforeAll(async () => {
  const dockerfile = await readFile(path.join(repoRoot, ".devcontainer", "Dockerfile"), "utf8");
  repo = await makeFixtureRepo({
    projectName: `hostile-limits-${runId}`.slice(0, 60),
    devcontainer: await readFile(path.join(repoRoot, ".devcontainer", "devcontainer.json"), "utf8"),
    files: { ".devcontainer/Dockerfile": `${dockerfile}\nLABEL dev.cspace.test=${runId}\n` },
    config: { agent: { preset: "scripted" }, container: { pidsLimit: PIDS_LIMIT } },
  });
  const warmed = await cli(["warm", "w1"]);
  expect(warmed.stderr).not.toContain("error");
  expect(warmed.status).toBe(0);
  const up = await cli(["up", "w1", "--prompt", `Wait for orders.\n${script("commit before.txt first", "wait-message", "commit after.txt second")}`]);
  expect(up.stderr).not.toContain("error");
  expect(up.status).toBe(0);
  await waitForEvent(instancePaths(repo.runDir, "w1"), waitingForMessage);
  [containerId = ""] = await containersOf(repo);
});

afterAll(async () => {
  await removeProject(repo);
});

describe("a hostile agent in the default worker", () => {
  it("runs, with everything else in the container, as a user other than root, without privileges to gain and with the reduced capability set", async () => {
    // Every process: pid 1, the supervisor, the agent, and this shell.
    const seen = await asAgent(
      `for p in /proc/[0-9]*; do awk -v cmd="$({ tr '\\0' ' ' < $p/cmdline; } 2>/dev/null | cut -c1-40)" '/^Uid:/{u=$2} /^CapBnd:/{b=$2} /^CapEff:/{e=$2} /^NoNewPrivs:/{n=$2} END{print u, b, e, n, cmd}' $p/status 2>/dev/null; done`,
    );
    expect(seen.status).toBe(0);
    const processes = seen.stdout.trim().split("\n").filter((line) => line !== "");
    expect(processes.some((line) => line.includes("worker.cjs supervise"))).toBe(true);
    for (const line of processes) expect(line, line).toMatch(new RegExp(`^1000 ${KEPT_CAPABILITIES} 0000000000000000 1 `));
    expect((await asAgent("id -u")).stdout).toBe("1000\n");
  });

  it("cannot become root through a setuid binary, su or a user namespace, and cannot mount", async () => {
    // A setuid-root program, as an image may ship one (sudo, or this copy of id): without no-new-privileges it would run as root.
    const planted = await runtime.exec(containerId, ["sh", "-c", "cp /usr/bin/id /usr/local/bin/setuid-id && chmod 4755 /usr/local/bin/setuid-id"], { user: "0" });
    expect(planted.exitCode).toBe(0);
    expect((await asAgent("/usr/local/bin/setuid-id -u")).stdout).toBe("1000\n");
    const su = await asAgent("su root -c 'id -u' < /dev/null 2>&1; echo exit=$?");
    expect(su.stdout).not.toMatch(/^0$/m);
    expect(su.stdout).not.toContain("exit=0");
    const mounted = await asAgent("mkdir -p /tmp/m && { mount -t tmpfs none /tmp/m 2>&1; echo mount=$?; unshare -Urm sh -c 'mount -t tmpfs none /tmp/m && echo mounted' 2>&1; echo unshare=$?; }");
    expect(mounted.stdout).toMatch(/mount=[1-9]/);
    expect(mounted.stdout).toMatch(/unshare=[1-9]/);
    expect(mounted.stdout).not.toContain("mounted");
    // Even root (cspace's own steps) cannot mount: CAP_SYS_ADMIN is not in the set.
    const asRoot = await runtime.exec(containerId, ["sh", "-c", "mkdir -p /tmp/r && mount -t tmpfs none /tmp/r"], { user: "0" });
    expect(asRoot.exitCode).not.toBe(0);
  });

  it("finds no engine socket: none is mounted, and no socket but its own instance's is in the container", async () => {
    const probe = await asAgent("for s in /var/run/docker.sock /run/docker.sock /run/containerd/containerd.sock; do [ -e $s ] && echo present $s; done; find / -type s 2>/dev/null | grep -v '^/proc/' | sort");
    expect(probe.stdout).not.toContain("present");
    const sockets = probe.stdout.split("\n").filter((line) => line.startsWith("/"));
    expect(sockets.length).toBeGreaterThan(0);
    for (const socket of sockets) expect(socket).toMatch(/^\/run\/cspace\/[^/]+\.sock$/);
  });

  it("a fork bomb stops at the pids limit, and the worker still answers and finishes its work", async () => {
    const inspected = await docker.getContainer(containerId).inspect();
    expect(inspected.HostConfig.PidsLimit).toBe(PIDS_LIMIT);
    // Perl is in every Debian image; its fork returns undef with EAGAIN where a shell would exit or retry.
    const bomb = await asAgent(
      `perl -e 'my @k; my $e = "none"; for (1..10000) { my $p = fork(); if (!defined $p) { $e = "$!"; last } if ($p == 0) { sleep 300; exit 0 } push @k, $p } print scalar(@k), " ", $e, "\\n"; kill "KILL", @k; waitpid($_, 0) for @k;'`,
    );
    expect(bomb.status).toBe(0);
    const [count = "", ...reason] = bomb.stdout.trim().split(" ");
    expect(reason.join(" ")).toBe("Resource temporarily unavailable");
    expect(Number(count)).toBeLessThan(PIDS_LIMIT);
    expect(Number(count)).toBeGreaterThan(PIDS_LIMIT / 2);
    expect((await asAgent("echo still here")).stdout).toBe("still here\n");

    // The agent, idle through all of this, takes its next message and finishes as usual.
    const sent = await cli(["send", "w1", "Carry on."]);
    expect([sent.status, sent.stderr]).toEqual([0, ""]);
    const exited = await waitForEvent(instancePaths(repo.runDir, "w1"), (e) => e.source === "supervisor" && e.type === "exited");
    expect(exited.text).toContain("success");
    expect((await asAgent("git log --format=%s -n 2")).stdout).toBe("scripted: after.txt\nscripted: before.txt\n");
  });
});

describe("a devcontainer that would mount the host into a worker", () => {
  it("is refused with exit 2, naming the file and the key, before anything is made", async () => {
    const fixture = await makeFixtureRepo({
      projectName: `hostile-mounts-${runId}`.slice(0, 60),
      devcontainer: { image: BASE_IMAGE, mounts: ["source=/tmp,target=/t,type=bind", "source=/var/run/docker.sock,target=/var/run/docker.sock,type=bind"] },
    });
    try {
      const refused = await runCliAsync(["--cwd", fixture.dir, "warm", "x1"], { env: fixture.env });
      expect(refused.stderr).toContain(`${path.join(fixture.dir, ".devcontainer", "devcontainer.json")}: mounts[1]: binds /var/run/docker.sock`);
      expect(refused.stderr).toContain("a container engine's socket");
      expect(refused.status).toBe(2);
      expect(await containersOf(fixture)).toEqual([]);
    } finally {
      await removeProject(fixture);
    }
  });
});
