import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { WarmEvent } from "../../../src/core/instances/warm-events.ts";
import { encodeEvent } from "../../../src/core/coordinator/codec.ts";
import type { CoordinatorEvent } from "../../../src/core/coordinator/events.ts";
import { UserError } from "../../../src/core/errors.ts";
import type { ExecOutcome } from "../../../src/core/instances/ports.ts";
import { downInstances } from "../../../src/services/instances/down.ts";
import { listInstances } from "../../../src/services/instances/list.ts";
import { openProject } from "../../../src/services/project.ts";
import { warm } from "../../../src/services/warm/warm.ts";
import { fakePorts } from "../../fakes/ports.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";

const tempDir = useTempDirs("warm-unit");

/** A project folder with a devcontainer.json and its own run directory; no git, no engine. */
async function project(devcontainer: Record<string, unknown>, config: Record<string, unknown> = {}) {
  const dir = await tempDir();
  await mkdir(path.join(dir, ".devcontainer"));
  await writeFile(path.join(dir, ".devcontainer", "devcontainer.json"), JSON.stringify({ image: "cspace-base:bookworm", ...devcontainer }));
  await writeFile(path.join(dir, ".cspace.json"), JSON.stringify({ project: { name: "demo" }, ...config }));
  const env = { CSPACE_RUN_DIR: path.join(dir, "run"), HOME: dir, PATH: process.env.PATH };
  return { cwd: dir, env };
}

const failed = (stderr: string): ExecOutcome => ({ exitCode: 1, stdout: "", stderr });
const isPostCreate = (command: readonly string[]) => command.join(" ").includes("post-create-step");

describe("warm with fake ports", () => {
  it("makes each instance ready: workspace at the base commit, container labelled, lifecycle run, validated", async () => {
    const ports = fakePorts();
    const where = await project({ postCreateCommand: "echo post-create-step" });
    const result = await warm({ ...where, instances: ["issue-1", "issue-2"], reset: false, ports: ports.overrides });
    expect(result.instances.map((o) => [o.instance, o.status, o.action, o.commit])).toEqual([
      ["issue-1", "ready", "created", "a".repeat(40)],
      ["issue-2", "ready", "created", "a".repeat(40)],
    ]);
    expect(ports.runtime.instances()).toEqual(["issue-1", "issue-2"]);
    expect(ports.workspaces.calls.filter((c) => c.startsWith("resolve"))).toEqual(["resolve main"]);
    expect(ports.runtime.execs.filter((e) => isPostCreate(e.command))).toHaveLength(2);
    expect((await listInstances({ ...where, ports: ports.overrides })).map((i) => [i.instance, i.state, i.base])).toEqual([
      ["issue-1", "running", "main"],
      ["issue-2", "running", "main"],
    ]);
  });

  it("retries a failed instance once from scratch, then removes it and reports the output's tail", async () => {
    const ports = fakePorts();
    ports.runtime.onExec(({ command }) => (isPostCreate(command) ? failed("npm ERR! missing script: setup") : undefined));
    const where = await project({ postCreateCommand: "echo post-create-step" });
    const events: WarmEvent[] = [];
    const result = await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides, onEvent: (e) => events.push(e) });
    const [outcome] = result.instances;
    expect(outcome?.status).toBe("failed");
    expect(outcome?.attempts).toBe(2);
    expect(outcome?.error?.message).toBe("postCreateCommand failed with exit code 1");
    expect(outcome?.error?.output).toContain("missing script: setup");
    expect(events.filter((e) => e.kind === "retry")).toHaveLength(1);
    expect(ports.runtime.calls.filter((c) => c.startsWith("create"))).toHaveLength(2);
    expect(ports.runtime.instances()).toEqual([]);
    expect(ports.workspaces.checkouts.size).toBe(0);
  });

  it("an instance that fails once and then works is ready on its second attempt", async () => {
    const ports = fakePorts();
    let calls = 0;
    ports.runtime.onExec(({ command }) => (isPostCreate(command) && calls++ === 0 ? failed("flaky") : undefined));
    const where = await project({ postCreateCommand: "echo post-create-step" });
    const result = await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
    expect(result.instances[0]).toMatchObject({ status: "ready", attempts: 2, error: null });
    expect(ports.runtime.instances()).toEqual(["issue-1"]);
  });

  it("stops a lifecycle command that outlives container.lifecycleTimeout, names the step, removes the instance, does not retry", async () => {
    const ports = fakePorts();
    ports.runtime.onExec(({ command }) => (isPostCreate(command) ? new Promise<ExecOutcome>(() => undefined) : undefined));
    const where = await project({ postCreateCommand: "echo post-create-step" }, { container: { lifecycleTimeout: "1s" } });
    const result = await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
    expect(result.instances[0]).toMatchObject({ status: "failed", attempts: 1 });
    expect(result.instances[0]?.error?.message).toBe("postCreateCommand was still running after 1s (container.lifecycleTimeout); stopped it");
    expect(ports.runtime.instances()).toEqual([]);
    expect(ports.workspaces.checkouts.size).toBe(0);
  });

  it("says which devcontainer.json keys it ignores, once per warm", async () => {
    const ports = fakePorts();
    const where = await project({ privileged: true, onCreateCommand: "make setup" });
    const events: WarmEvent[] = [];
    await warm({ ...where, instances: ["issue-1", "issue-2"], reset: false, ports: ports.overrides, onEvent: (e) => events.push(e) });
    const warnings = events.flatMap((e) => (e.kind === "warning" ? [e.message] : []));
    expect(warnings).toHaveLength(2);
    expect(warnings.some((w) => w.includes("privileged"))).toBe(true);
    expect(warnings.some((w) => w.includes("onCreateCommand"))).toBe(true);
  });

  it("down during a warm wins: the warm stops, nothing is recreated, and down removes everything", async () => {
    const ports = fakePorts();
    let reached!: () => void;
    const inPostCreate = new Promise<void>((resolve) => (reached = resolve));
    ports.runtime.onExec(({ command }) => {
      if (!isPostCreate(command)) return undefined;
      reached();
      return new Promise<ExecOutcome>(() => undefined);
    });
    const where = await project({ postCreateCommand: "echo post-create-step" });
    const warming = warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
    await inPostCreate;
    const [removed] = await downInstances({ ...where, instances: ["issue-1"], all: false, ports: ports.overrides });
    const result = await warming;
    expect(result.instances[0]).toMatchObject({ status: "cancelled", error: { message: "removed by cspace down while warming" } });
    expect(removed).toMatchObject({ instance: "issue-1", removed: { container: true, workspace: true } });
    expect(ports.runtime.calls.filter((c) => c.startsWith("create"))).toHaveLength(1);
    expect(ports.runtime.instances()).toEqual([]);
    expect(ports.workspaces.checkouts.size).toBe(0);
    expect(ports.locks.removals.size).toBe(0);
  });

  it("two warms of one instance at once make it once: the second waits, then validates", async () => {
    const ports = fakePorts();
    const where = await project({});
    const [a, b] = await Promise.all([
      warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides }),
      warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides }),
    ]);
    expect([a.instances[0]?.action, b.instances[0]?.action].sort()).toEqual(["created", "validated"]);
    expect(ports.runtime.calls.filter((c) => c.startsWith("create"))).toHaveLength(1);
  });

  it("refuses before making anything when the engine does not answer", async () => {
    const ports = fakePorts();
    ports.runtime.down = true;
    const where = await project({});
    await expect(warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides })).rejects.toThrow(/cannot reach the Docker engine/);
    expect(ports.workspaces.calls).toEqual([]);
  });

  it("refuses a different base for an existing instance without --reset, and remakes it with --reset", async () => {
    const ports = fakePorts();
    ports.workspaces.branches.set("feature/x", "b".repeat(40));
    const where = await project({});
    await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
    await expect(warm({ ...where, instances: ["issue-1"], base: "feature/x", reset: false, ports: ports.overrides })).rejects.toThrow(
      'instance "issue-1" was made from base "main", not "feature/x"',
    );
    const again = await warm({ ...where, instances: ["issue-1"], base: "feature/x", reset: true, ports: ports.overrides });
    expect(again.instances[0]).toMatchObject({ status: "ready", action: "created", commit: "b".repeat(40) });
  });
});

/** A warmed instance whose agent has run: its history is in the instance directory, its commits in the workspace. */
async function usedInstance(ports: ReturnType<typeof fakePorts>, where: { cwd: string; env: NodeJS.ProcessEnv }) {
  await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
  const { runDir } = await openProject({ ...where, ports: ports.overrides });
  const events = path.join(runDir, "issue-1", "events.ndjson");
  const history = `${JSON.stringify({ source: "supervisor", type: "started" })}\n`;
  await writeFile(events, history);
  const checkout = ports.workspaces.checkouts.get("issue-1");
  return { events, history, checkout };
}

describe("warm of an instance that holds an agent's work", () => {
  it("restarts and validates again a container that stopped between the inspect and the validation, keeping everything", async () => {
    const ports = fakePorts();
    const where = await project({});
    const used = await usedInstance(ports, where);
    let killed = false;
    const onEvent = (event: WarmEvent): void => {
      // docker kill lands after warm found the container running, before validate looks at it.
      if (event.kind === "step" && event.step === "validate" && !killed) {
        killed = true;
        const [container] = [...ports.runtime.containers.values()].filter((c) => c.spec.Labels["dev.cspace.instance"] === event.instance);
        if (container !== undefined) ports.runtime.kill(container.id);
      }
    };
    const result = await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides, onEvent });
    expect(killed).toBe(true);
    expect(result.instances[0]).toMatchObject({ status: "ready", action: "restarted", attempts: 1, error: null });
    expect(ports.runtime.calls.filter((c) => c.startsWith("create"))).toHaveLength(1);
    expect(ports.workspaces.checkouts.get("issue-1")).toBe(used.checkout);
    expect(await readFile(used.events, "utf8")).toBe(used.history);
  });

  it("an automatic retry remakes a broken container on the kept workspace and instance directory; only --reset removes them", async () => {
    const ports = fakePorts();
    const where = await project({});
    const used = await usedInstance(ports, where);
    const workspaceCallsBefore = ports.workspaces.calls.length;
    let broken = 1;
    ports.runtime.onExec(({ command }) => (command[0] === "node" && broken-- > 0 ? failed("node: not found") : undefined));
    const result = await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
    expect(result.instances[0]).toMatchObject({ status: "ready", attempts: 2, error: null });
    expect(ports.runtime.calls.filter((c) => c.startsWith("create"))).toHaveLength(2);
    expect(ports.runtime.instances()).toEqual(["issue-1"]);
    expect(ports.workspaces.calls.slice(workspaceCallsBefore).filter((c) => c.startsWith("create") || c.startsWith("remove"))).toEqual([]);
    expect(ports.workspaces.checkouts.get("issue-1")).toBe(used.checkout);
    expect(await readFile(used.events, "utf8")).toBe(used.history);

    broken = 2;
    const failedTwice = await warm({ ...where, instances: ["issue-1"], reset: false, ports: ports.overrides });
    expect(failedTwice.instances[0]).toMatchObject({ status: "failed", attempts: 2 });
    expect(ports.workspaces.checkouts.get("issue-1")).toBe(used.checkout);
    expect(await readFile(used.events, "utf8")).toBe(used.history);

    const reset = await warm({ ...where, instances: ["issue-1"], reset: true, ports: ports.overrides });
    expect(reset.instances[0]).toMatchObject({ status: "ready", action: "created" });
    expect(await readFile(used.events, "utf8").catch(() => "gone")).toBe("gone");
  });
});

describe("warm --reset under a running coordinator", () => {
  /** A coordinator holds the project's lock and runs #10 (instance issue-10). */
  async function coordinated() {
    const ports = fakePorts();
    const held = await ports.coordinatorLock.acquire();
    const runId = await ports.eventStore.startRun({});
    const at = "2026-01-01T00:00:00.000Z";
    const started: CoordinatorEvent = {
      type: "RunStarted",
      at,
      runId,
      selected: [10],
      graph: { nodes: [{ number: 10, dependencies: [], external: [] }], order: [10] },
      settings: { featureBranch: "main", maxParallel: 1, maxAttempts: 2, review: false, stacking: true, verify: { all: null, e2e: null } },
    };
    await ports.eventStore.append(runId, [encodeEvent(started)]);
    return { ports, held, runId };
  }

  it("is refused for an instance the run uses, naming the run and its holder, before anything is made", async () => {
    const { ports, held, runId } = await coordinated();
    const where = await project({});
    const refused = warm({ ...where, instances: ["issue-10"], reset: true, ports: ports.overrides });
    await expect(refused).rejects.toThrow(UserError);
    await expect(refused).rejects.toThrow(`issue-10 is used by the coordinator running now (run ${runId}, pid ${String(held.holder.pid)} on fake-host`);
    expect(ports.runtime.calls.filter((c) => c.startsWith("create") || c.startsWith("remove"))).toEqual([]);
  });

  it("goes ahead with --force, for an instance the run does not use, and once the coordinator is gone", async () => {
    const { ports, held } = await coordinated();
    const where = await project({});
    expect((await warm({ ...where, instances: ["issue-10"], reset: true, force: true, ports: ports.overrides })).instances[0]?.status).toBe("ready");
    expect((await warm({ ...where, instances: ["issue-11"], reset: true, ports: ports.overrides })).instances[0]?.status).toBe("ready");
    await held.release();
    expect((await warm({ ...where, instances: ["issue-10"], reset: true, ports: ports.overrides })).instances[0]?.status).toBe("ready");
  });
});
