import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, realpath, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { binPath, cleanEnv, repoRoot } from "../support/cli.ts";
import { startFakeKube, type FakeKube } from "../support/fake-kube/server.ts";

// A worker on a Kubernetes host, end to end through the built binary
// (`npm run build` first), against the project's own Kubernetes API server
// (test/support/fake-kube: its pods are processes on this machine in a mount
// namespace of their own, running this machine's git and node in place of
// the image's). No real cluster runs here (README, Beyond one machine).

const IMAGE = "registry.example/cspace-base:bookworm";
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface WarmJson {
  readonly instances: readonly { readonly instance: string; readonly status: string; readonly action: string | null; readonly host: string; readonly commit: string | null; readonly attempts: number; readonly error: unknown }[];
}

async function setup(options: { readonly devcontainer?: Record<string, unknown>; readonly network?: unknown } = {}) {
  const scratch = await realpath(await mkdtemp(path.join(os.tmpdir(), "cspace-warm-k8s-")));
  cleanups.push(() => rm(scratch, { recursive: true, force: true }));
  await mkdir(path.join(scratch, "kube"));
  const kube = await startFakeKube({ dir: path.join(scratch, "kube") });
  cleanups.push(() => kube.stop());
  const project = path.join(scratch, "project");
  await mkdir(path.join(project, ".devcontainer"), { recursive: true });
  await writeFile(path.join(project, ".devcontainer", "devcontainer.json"), JSON.stringify(options.devcontainer ?? { image: IMAGE, containerUser: "1000", postCreateCommand: "id -u > .post-create-ran" }));
  await writeFile(path.join(project, ".devcontainer", "Dockerfile"), `FROM ${IMAGE}\n`);
  const hosts = [{ name: "k8s", kubernetes: { context: kube.context, namespace: kube.namespace, kubeconfig: kube.kubeconfig }, slots: 2 }];
  await writeFile(path.join(project, ".cspace.json"), JSON.stringify({ project: { name: "warm-k8s" }, workers: { hosts }, ...(options.network === undefined ? {} : { container: { network: options.network } }) }));
  await writeFile(path.join(project, "README.md"), "a project on a cluster\n");
  const git = (...args: string[]): string => execFileSync("git", ["-C", project, "-c", "user.name=t", "-c", "user.email=t@t.invalid", ...args], { encoding: "utf8" });
  git("init", "-q", "-b", "main");
  git("add", "-A");
  git("commit", "-qm", "init");
  // The spawned binary is asynchronous here: the API server answers from this process.
  const cli = (args: readonly string[]) =>
    execa(process.execPath, [binPath, "--cwd", project, ...args], {
      cwd: repoRoot,
      env: { ...cleanEnv(), CSPACE_RUN_DIR: path.join(scratch, "run"), CSPACE_DATA_DIR: path.join(scratch, "data"), DOCKER_HOST: `unix://${scratch}/no-engine.sock` },
      extendEnv: false,
      reject: false,
      timeout: 120_000,
    });
  return { kube, cli, project, head: git("rev-parse", "HEAD").trim() };
}

/** Asks `check` again until it holds (each ask is a whole command), for at most two minutes. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
  }
}

/** What of cspace's is on the fake cluster: pods and claims by name. */
function onCluster(kube: FakeKube): { pods: string[]; claims: string[] } {
  return { pods: [...kube.pods.keys()].sort(), claims: [...kube.claims.keys()].sort() };
}

describe("a worker on a Kubernetes host, through the built binary", () => {
  it("warm makes it there from the host's mirror, list shows it on that host, and down --all leaves no pod and no claim", async () => {
    const { kube, cli, head } = await setup();

    const warmed = await cli(["warm", "issue-1", "--json"]);
    expect(warmed.exitCode, warmed.stderr).toBe(0);
    const result = JSON.parse(warmed.stdout) as WarmJson;
    expect(result.instances.map((o) => [o.instance, o.status, o.host, o.commit])).toEqual([["issue-1", "ready", "k8s", head]]);
    expect(warmed.stderr).toContain(`host k8s is a Kubernetes cluster: its nodes pull ${IMAGE} when each pod starts`);
    expect(warmed.stderr).toContain("NetworkPolicy");
    // The worker's pod, its mirror keeper gone with the warm, and two claims: the host's mirror and the worker's checkout.
    const there = onCluster(kube);
    expect(there.pods).toHaveLength(1);
    expect(there.claims).toHaveLength(2);
    expect(there.claims.some((claim) => claim.endsWith("-mirror"))).toBe(true);
    expect(there.claims.some((claim) => claim.endsWith("-work-issue-1"))).toBe(true);
    const pod = kube.pods.get(there.pods[0] ?? "");
    expect(pod?.container.image).toBe(IMAGE);
    // Inside: the checkout on its own branch at the project's commit, cloned from the read-only mirror, as the container user.
    // postCreateCommand ran there, in the workspace, as that user.
    const inside = await cli(["exec", "issue-1", "--", "sh", "-c", "git rev-parse --abbrev-ref HEAD; git rev-parse HEAD; id -u; cat README.md .post-create-ran; touch /var/lib/cspace/store.git/planted 2>&1 || true"]);
    expect(inside.exitCode, inside.stderr).toBe(0);
    expect(inside.stdout).toMatch(new RegExp(`^issue-1\n${head}\n1000\na project on a cluster\n1000\n.*Read-only file system`, "s"));

    // Warmed again: validated where it is, nothing made anew.
    const again = await cli(["warm", "issue-1", "--json"]);
    expect(again.exitCode, again.stderr).toBe(0);
    expect((JSON.parse(again.stdout) as WarmJson).instances.map((o) => [o.status, o.host])).toEqual([["ready", "k8s"]]);
    expect(onCluster(kube).pods).toEqual(there.pods);

    // Its pod ended (a crash, an eviction): a pod is never started again (restartPolicy Never), so the next warm makes it anew, in one attempt.
    pod?.killMain();
    while (pod?.manifest.status?.phase !== "Failed") await new Promise((resolve) => setImmediate(resolve));
    const remade = await cli(["warm", "issue-1", "--json"]);
    expect(remade.exitCode, remade.stderr).toBe(0);
    expect((JSON.parse(remade.stdout) as WarmJson).instances.map((o) => [o.status, o.action, o.host, o.attempts])).toEqual([["ready", "created", "k8s", 1]]);
    expect(onCluster(kube)).toEqual(there);
    expect(kube.pods.get(there.pods[0] ?? "")?.manifest.status?.phase).toBe("Running");

    const listed = await cli(["list", "--json"]);
    expect(listed.exitCode, listed.stderr).toBe(0);
    const listing = JSON.parse(listed.stdout) as { instances: { instance: string; host: string; state: string }[]; unreachableHosts: unknown[] };
    expect(listing.unreachableHosts).toEqual([]);
    expect(listing.instances.map((i) => [i.instance, i.host, i.state])).toEqual([["issue-1", "k8s", "running"]]);

    const down = await cli(["down", "--all"]);
    expect(down.exitCode, `${down.stdout}\n${down.stderr}`).toBe(0);
    expect(onCluster(kube)).toEqual({ pods: [], claims: [] });
    expect(kube.violations).toEqual([]);
    // Seven commands of the built binary, each starting Node: on two busy cores that takes far more than the lane's 30 s.
  }, 300_000);

  it("up starts an agent there with no coordinator; status and send reach it through a relay over the pod's exec; down --all leaves nothing", async () => {
    const { kube, cli } = await setup();
    const prompt = ["Do the work.", "cspace-script: commit one.txt first", "cspace-script: wait-message", "cspace-script: commit two.txt second"].join("\n");
    const up = await cli(["up", "issue-2", "--agent", "scripted", "--prompt", prompt, "--json"]);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(JSON.parse(up.stdout)).toMatchObject({ instance: "issue-2", host: "k8s", remote: true });
    const agentState = async (): Promise<{ state: string; label: string }> => {
      const status = await cli(["status", "issue-2", "--json"]);
      expect(status.exitCode, status.stderr).toBe(0);
      return (JSON.parse(status.stdout) as { agent: { state: string; label: string } }).agent;
    };
    // Its first turn ends at wait-message: idle, asked through the pod (nothing on this machine knows it).
    await until(async () => (await agentState()).state === "idle", "the agent to be idle");
    // logs -f follows the worker's events in the pod: what it printed so far, then what comes after it started.
    const follow = cli(["logs", "issue-2", "-f", "--json"]);
    let followed = "";
    const waiters: (() => void)[] = [];
    follow.stdout.on("data", (chunk: Buffer) => {
      followed += chunk.toString("utf8");
      for (const waiter of [...waiters]) waiter();
    });
    const printed = (what: RegExp): Promise<void> =>
      new Promise((resolve, reject) => {
        const look = (): void => {
          if (what.test(followed)) resolve();
        };
        waiters.push(look);
        void follow.then((ended) => { reject(new Error(`logs -f ended (exit ${String(ended.exitCode)}) before printing ${String(what)}: ${ended.stderr}`)); });
        look();
      });
    await printed(/"source":"supervisor","type":"started"/);
    const sent = await cli(["send", "issue-2", "Please finish."]);
    expect([sent.exitCode, sent.stderr]).toEqual([0, ""]);
    await printed(/"source":"message","type":"delivered","text":"Please finish\."/);
    await until(async () => (await agentState()).label === "exited 0", "the agent to exit 0");
    const work = await cli(["exec", "issue-2", "--", "git", "log", "--format=%s", "-n", "2"]);
    expect(work.stdout.split("\n").map((line) => line.trim()).filter((line) => line !== "")).toHaveLength(2);
    const listed = await cli(["list", "--json"]);
    expect((JSON.parse(listed.stdout) as { instances: { instance: string; host: string; agent: { label: string } }[] }).instances.map((i) => [i.instance, i.host, i.agent.label])).toEqual([["issue-2", "k8s", "exited 0"]]);
    const down = await cli(["down", "--all"]);
    expect(down.exitCode, down.stderr).toBe(0);
    expect(onCluster(kube)).toEqual({ pods: [], claims: [] });
    // With its pod gone nothing more can be written: logs -f ends by itself, having printed the agent's exit.
    const ended = await follow;
    expect(ended.exitCode, ended.stderr).toBe(0);
    expect(ended.stdout).toMatch(/"source":"supervisor","type":"exited"/);
  }, 300_000);

  it("interrupt and restart reach an agent in a pod; up --follow follows one there to its exit", async () => {
    const { cli } = await setup();
    const waiting = await cli(["up", "issue-3", "--agent", "scripted", "--prompt", "cspace-script: wait-message", "--json"]);
    expect(waiting.exitCode, waiting.stderr).toBe(0);
    const interrupted = await cli(["interrupt", "issue-3", "--json"]);
    expect(interrupted.exitCode, interrupted.stderr).toBe(0);
    expect(JSON.parse(interrupted.stdout)).toMatchObject({ interrupted: true, outcome: "interrupted" });
    const restarted = await cli(["restart", "issue-3", "--json"]);
    expect(restarted.exitCode, restarted.stderr).toBe(0);
    const { stopped, status } = JSON.parse(restarted.stdout) as { stopped: string; status: { pid: number } };
    expect(stopped).toBe("shutdown");
    const after = await cli(["status", "issue-3", "--json"]);
    expect(JSON.parse(after.stdout)).toMatchObject({ live: true, status: { pid: status.pid } });
    const followed = await cli(["up", "issue-4", "--agent", "scripted", "--prompt", "cspace-script: commit a.txt alone", "--follow"]);
    expect(followed.exitCode, followed.stderr).toBe(0);
    expect(followed.stdout).toContain("on host k8s");
    expect(followed.stdout).toMatch(/supervisor +exited +success \(exit 0\)/);
  }, 300_000);

  it("doctor with no engine on this machine: the cluster is checked, this machine's engine is not needed", async () => {
    const { cli, project } = await setup();
    await mkdir(path.join(project, ".cspace", "issues"), { recursive: true });
    const doctor = await cli(["doctor", "--json"]);
    const report = JSON.parse(doctor.stdout) as { ok: boolean; checks: { id: string; status: string; required: boolean }[] };
    expect(doctor.exitCode, doctor.stdout).toBe(0);
    const check = (id: string) => report.checks.find((c) => c.id === id);
    expect([check("docker-engine"), check("base-image")]).toEqual([expect.objectContaining({ status: "skip", required: false }), expect.objectContaining({ status: "skip", required: false })]);
    expect(check("host")).toMatchObject({ status: "pass", required: true });
    // The image is the cluster's to pull: not looked into from here, said as a warning, not a failure.
    expect(check("agent")).toMatchObject({ status: "warn" });
    expect(report.checks.filter((c) => c.status === "fail")).toEqual([]);
  });

  it("refuses, naming the host, a devcontainer whose image must be built, and makes nothing there", async () => {
    const { kube, cli } = await setup({ devcontainer: { build: { dockerfile: "Dockerfile" } } });
    const warmed = await cli(["warm", "issue-1"]);
    expect(warmed.stderr).toContain("host k8s is a Kubernetes cluster, which cannot build the workers' image");
    expect(warmed.exitCode).toBe(2);
    expect(onCluster(kube)).toEqual({ pods: [], claims: [] });
  }, 120_000);

  it("refuses, naming the host, an egress allowlist it cannot enforce there, and makes nothing there", async () => {
    const { kube, cli } = await setup({ network: { allow: ["@npm"] } });
    const warmed = await cli(["warm", "issue-1"]);
    expect(warmed.stderr).toContain("host k8s is a Kubernetes cluster, where container.network an allowlist cannot be enforced");
    expect(warmed.stderr).toContain("NetworkPolicy");
    expect(warmed.exitCode).toBe(2);
    expect(onCluster(kube)).toEqual({ pods: [], claims: [] });
  }, 120_000);
});
