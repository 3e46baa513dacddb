import { mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { runCli } from "../support/cli.ts";
import { BASE_IMAGE, testDocker, testLabels } from "../support/docker.ts";
import { makeProject, type TempProject } from "../support/temp-project.ts";

// `list` and `doctor` with three hosts: the real engine under its default
// name and again by its socket's address (the same engine twice is enough for
// the wiring), and a host whose socket does not exist.

const SOCKET = "unix:///var/run/docker.sock";
const docker: Docker = testDocker({ ...process.env, DOCKER_HOST: SOCKET });
let project: TempProject;
let scratch: string;
let id: string;
const made: string[] = [];

beforeAll(async () => {
  project = await makeProject({
    config: {
      project: { name: "hosts-test" },
      container: { devcontainer: "worker.json" },
      workers: { hosts: [{ name: "local", slots: 2 }, { name: "other", docker: SOCKET, slots: 3 }, { name: "gone", docker: "unix:///nonexistent.sock" }] },
    },
  });
  await writeFile(path.join(project.dir, "worker.json"), `${JSON.stringify({ image: BASE_IMAGE })}\n`);
  scratch = await mkdtemp(path.join(os.tmpdir(), "cspace-hosts-"));
  id = projectId("hosts-test", await realpath(project.dir));
  // One worker made on each answering host, labelled as warm labels them.
  for (const [instance, host] of [["w-local", "local"], ["w-other", "other"]] as const) {
    const container = await docker.createContainer({
      name: `cspace-${id}-${instance}`,
      Image: BASE_IMAGE,
      Entrypoint: ["sleep", "infinity"],
      Labels: { ...testLabels(inject("cspaceTestRun"), id), [LABELS.instance]: instance, [LABELS.base]: "main", [LABELS.host]: host },
    });
    made.push(container.id);
    await container.start();
  }
});

afterAll(async () => {
  await Promise.all(made.map((container) => docker.getContainer(container).remove({ force: true }).catch(() => undefined)));
  await project.remove();
  await rm(scratch, { recursive: true, force: true });
});

const cli = (args: readonly string[]) =>
  runCli([...args, "--cwd", project.dir], { env: { DOCKER_HOST: SOCKET, CSPACE_RUN_DIR: path.join(scratch, "run"), CSPACE_DATA_DIR: path.join(scratch, "data") } });

describe("several hosts against the real engine", () => {
  it("list shows where each worker runs, once each, and names the host that does not answer", () => {
    const json = cli(["list", "--json"]);
    expect(json.status).toBe(0);
    const listing = JSON.parse(json.stdout) as { instances: { instance: string; host: string; state: string }[]; unreachableHosts: { host: string; error: string }[] };
    expect(listing.instances.map((i) => [i.instance, i.host, i.state])).toEqual([
      ["w-local", "local", "running"],
      ["w-other", "other", "running"],
    ]);
    expect(listing.unreachableHosts).toEqual([{ host: "gone", error: "no Docker engine at unix:///nonexistent.sock: the socket does not exist" }]);

    const text = cli(["list"]);
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/^host gone did not answer, so its workers are not listed: no Docker engine at unix:\/\/\/nonexistent\.sock: the socket does not exist$/m);
    expect(text.stdout).toMatch(/^INSTANCE +HOST +STATE +BASE +AGE +IMAGE$/m);
    expect(text.stdout).toMatch(/^w-local +local +running +main +\d+[smhd] +cspace-base:bookworm$/m);
    expect(text.stdout).toMatch(/^w-other +other +running +main +\d+[smhd] +cspace-base:bookworm$/m);
  });

  it("doctor checks each host: the two answering ones pass with their version and slots, the silent one fails naming it", () => {
    const result = cli(["doctor", "--json"]);
    expect(result.status).toBe(1);
    const report = JSON.parse(result.stdout) as { ok: boolean; checks: { id: string; title: string; status: string; detail: string; hint?: string }[] };
    const hosts = report.checks.filter((c) => c.id === "host");
    expect(hosts.map((c) => [c.title, c.status])).toEqual([
      ["Host local", "pass"],
      ["Host other", "pass"],
      ["Host gone", "fail"],
    ]);
    expect(hosts[0]?.detail).toMatch(/^Docker \d+\.\d+\.\d+\S* \(API 1\.\d+\) at unix:\/\/\/var\/run\/docker\.sock, 2 slots; worker image cspace-base:bookworm is there$/);
    expect(hosts[1]?.detail).toMatch(/^Docker \d+\.\d+\.\d+\S* \(API 1\.\d+\) at unix:\/\/\/var\/run\/docker\.sock, 3 slots; worker image cspace-base:bookworm is there$/);
    expect(hosts[2]?.detail).toBe("host gone: no Docker engine at unix:///nonexistent.sock: the socket does not exist");
    expect(hosts[2]?.hint).toContain("host gone");
    expect(report.ok).toBe(false);

    const text = cli(["doctor"]);
    expect(text.stdout).toMatch(/^✗ Host gone +host gone: no Docker engine at unix:\/\/\/nonexistent\.sock: the socket does not exist$/m);
  });
});
