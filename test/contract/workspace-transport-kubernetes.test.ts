import { randomBytes } from "node:crypto";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRemoteTransport } from "../../src/adapters/git/transport/remote-transport.ts";
import { runGit } from "../../src/adapters/git/run-git.ts";
import { openKubernetesRuntime } from "../../src/adapters/kubernetes/runtime.ts";
import { KEEP_ALIVE, WORKER_CAPABILITIES } from "../../src/core/devcontainer/create-options.ts";
import type { ContainerRuntime } from "../../src/core/instances/ports.ts";
import { MIRROR_IN_CONTAINER, checkoutVolumeName, mirrorVolumeName, type WorkspaceTransport } from "../../src/core/workspaces/transport.ts";
import { repoRoot } from "../support/cli.ts";
import { startFakeKube, type FakeKube } from "../support/fake-kube/server.ts";

/**
 * The workspace transport on a Kubernetes host: the real transport
 * (createRemoteTransport) over the Kubernetes adapter, against the project's
 * own API server (test/support/fake-kube). The mirror and each checkout are
 * PersistentVolumeClaims the adapter makes; the fake binds each to a
 * directory and mounts it in the pod's own mount namespace, read-only where
 * the pod says so. What test/docker/workspace-transport.test.ts checks on a
 * Docker engine, checked here: this repository's history pushed into the
 * mirror over the exec stream, a worker's checkout from it, a commit
 * collected into the quarantine (only the new objects), the store untouched,
 * and everything removed after.
 */

const WORKER_USER = "1000:1000";
const WORKSPACE = "/workspaces/project";
const IDENTITY = { "user.name": "Agent", "user.email": "agent@cspace.invalid" };

let dir = "";
let kube: FakeKube;
let runtime: ContainerRuntime;
let transport: WorkspaceTransport;
let store = "";
let projectId = "";
let base = "";
const labels = { "dev.cspace.test": randomBytes(4).toString("hex") };
const pods: string[] = [];

beforeAll(async () => {
  dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "cspace-k8s-transport-")));
  kube = await startFakeKube({ dir });
  runtime = openKubernetesRuntime({ name: "k8s", context: kube.context, namespace: kube.namespace, kubeconfig: kube.kubeconfig });
  store = path.join(dir, "objects.git");
  await runGit(["clone", "--quiet", "--bare", "--no-local", "--", repoRoot, store], { cwd: dir, timeoutMs: 600_000 });
  base = (await git(store, ["rev-parse", "HEAD"])).trim();
  projectId = `transport-${randomBytes(3).toString("hex")}`;
  transport = createRemoteTransport({
    runtime,
    hostName: "k8s",
    projectId,
    store,
    scratchDir: path.join(dir, "cspace"),
    keeperImage: "registry.example/cspace-base:bookworm",
    extraLabels: labels,
    keeperWithoutNetwork: false,
  });
}, 600_000);

afterAll(async () => {
  try {
    for (const id of pods.splice(0)) await runtime.remove(id);
    await transport.close();
    expect(kube.violations).toEqual([]);
  } finally {
    await kube.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

async function git(repository: string, args: readonly string[]): Promise<string> {
  return (await runGit(["--git-dir", repository, ...args], { cwd: dir })).stdout;
}

/** Objects a bare repository holds, loose and packed, not counting its alternates. */
async function objectCount(repository: string): Promise<number> {
  const counts = Object.fromEntries((await git(repository, ["count-objects", "-v"])).split("\n").map((line) => line.split(": ") as [string, string])) as Record<string, string>;
  return Number(counts.count) + Number(counts["in-pack"]);
}

/** A worker pod for `instance` as cspace makes one (hardened, its commands as uid 1000), mounting what the transport says; running, checked out. */
async function worker(instance: string, branch: string): Promise<string> {
  const id = await runtime.create({
    name: `${projectId}-${instance}`,
    Image: "registry.example/cspace-base:bookworm",
    Env: [],
    Labels: labels,
    User: WORKER_USER,
    WorkingDir: "/",
    Entrypoint: [...KEEP_ALIVE.Entrypoint],
    Cmd: [...KEEP_ALIVE.Cmd],
    HostConfig: { Mounts: transport.mountsFor(instance, WORKSPACE), CapDrop: ["ALL"], CapAdd: [...WORKER_CAPABILITIES], SecurityOpt: ["no-new-privileges"], PidsLimit: 512 },
  });
  pods.push(id);
  await runtime.start(id);
  await transport.checkout(id, { instance, branch, commit: base, path: WORKSPACE, user: WORKER_USER, config: IDENTITY });
  return id;
}

/** A script in the worker as its user (or root), in the workspace: its stdout, failing the test on a non-zero exit. */
async function sh(container: string, script: string, user = WORKER_USER): Promise<string> {
  const result = await runtime.exec(container, ["sh", "-c", script], { user, workdir: WORKSPACE, env: { HOME: "/tmp" } });
  expect(result.stderr, `${script}\n${result.stdout}`).not.toMatch(/fatal|error/i);
  expect(result.exitCode, `${script}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

describe("the workspace transport on a Kubernetes host (the project's API server)", () => {
  it("fills the mirror claim, checks out in a worker pod, collects its commits into the quarantine only, and removes its claims", async () => {
    await transport.prepareHost();
    await transport.pushRefs([{ name: "main", sha: base }]);
    // A push the mirror needs nothing of still succeeds (one exec and a ref advertisement).
    await transport.pushRefs([{ name: "main", sha: base }]);

    // The mirror is a ReadWriteMany claim (the keeper writes, workers on any node read), labelled as the keeper's volume.
    const mirror = kube.claims.get(mirrorVolumeName(projectId));
    expect(mirror?.manifest.spec).toMatchObject({ accessModes: ["ReadWriteMany"], resources: { requests: { storage: "10Gi" } } });
    expect(mirror?.manifest.metadata?.labels).toMatchObject({ ...labels, "dev.cspace.mirror-of": projectId, "dev.cspace.host": "k8s" });

    // Two workers mount the mirror at once (with its keeper), each its own checkout claim.
    const first = await worker("w1", "issue-1");
    const second = await worker("w2", "issue-2");
    const checkout = kube.claims.get(checkoutVolumeName(projectId, "w1"));
    expect(checkout?.manifest.spec?.accessModes).toEqual(["ReadWriteOnce"]);
    expect(checkout?.manifest.metadata?.labels).toMatchObject({ "dev.cspace.instance": "w1" });
    expect(kube.claims.size).toBe(3);
    // What `down --all` finds on the host by the project's label: the mirror and every checkout claim, by their volume names.
    expect((await runtime.listVolumes({ "dev.cspace.mirror-of": projectId })).map((volume) => volume.name).sort()).toEqual(
      [mirrorVolumeName(projectId), checkoutVolumeName(projectId, "w1"), checkoutVolumeName(projectId, "w2")].sort(),
    );

    // Each: its own branch at the base, owned by its user, origin the mirror, a clean tree; origin fetches as locally.
    for (const [pod, branch] of [
      [first, "issue-1"],
      [second, "issue-2"],
    ] as const) {
      expect(await sh(pod, "git rev-parse --abbrev-ref HEAD; git rev-parse HEAD; stat -c %u .git; git remote get-url origin; git status --porcelain | wc -l")).toBe(
        `${branch}\n${base}\n1000\n${MIRROR_IN_CONTAINER}\n0\n`,
      );
    }
    expect(await sh(first, "git fetch --quiet origin && git rev-parse origin/main")).toBe(`${base}\n`);

    // The mirror is read-only to the worker, as its user and as root, and stays whole.
    for (const user of [WORKER_USER, "0:0"]) {
      for (const attack of [`touch ${MIRROR_IN_CONTAINER}/planted`, `git --git-dir ${MIRROR_IN_CONTAINER} update-ref refs/heads/evil "$(git --git-dir ${MIRROR_IN_CONTAINER} rev-parse refs/heads/main)"`, ...(user === WORKER_USER ? ["git commit --quiet --allow-empty -m attack && git push --quiet origin HEAD:refs/heads/main"] : [])]) {
        const tried = await runtime.exec(first, ["sh", "-c", attack], { user, workdir: WORKSPACE, env: { HOME: "/tmp" } });
        expect(tried.exitCode, `${attack} as ${user}`).not.toBe(0);
        expect(`${tried.stdout}${tried.stderr}`, attack).toMatch(/Read-only file system|Permission denied|unable to|failed|error/i);
      }
    }
    expect((await runtime.exec(first, ["touch", `${MIRROR_IN_CONTAINER}/planted`], { user: "0:0" })).stderr).toMatch(/Read-only file system/);
    expect(await sh(first, `git --git-dir ${MIRROR_IN_CONTAINER} for-each-ref --format='%(refname) %(objectname)'; ls ${MIRROR_IN_CONTAINER}/planted 2>/dev/null | wc -l`)).toBe(`refs/heads/main ${base}\n0\n`);

    const storeRefs = await git(store, ["for-each-ref"]);
    const storeObjects = await objectCount(store);
    // The attack's local commit (its push was refused) is dropped first.
    await sh(first, `git reset --quiet --hard ${base} && echo one > agent-one.txt && git add agent-one.txt && git commit --quiet -m 'agent: one'`);
    const head1 = (await sh(first, "git rev-parse HEAD")).trim();
    const collected = await transport.collect(first, { instance: "w1", path: WORKSPACE, branch: "issue-1", user: WORKER_USER });
    expect(collected.sha).toBe(head1);
    expect(collected.ref).toBe("refs/cspace/collected/issue-1");
    expect(await git(collected.repository, ["for-each-ref", "--format=%(refname) %(objectname)"])).toBe(`refs/cspace/collected/issue-1 ${head1}\nrefs/heads/issue-1 ${head1}\n`);
    // Only the new commit, its tree and its blob travelled (with at most the bases index-pack appends to a thin pack): the history stays in the store.
    const count = await objectCount(collected.repository);
    expect(count).toBeGreaterThanOrEqual(3);
    expect(count).toBeLessThanOrEqual(6);
    expect(storeObjects).toBeGreaterThan(1000);
    expect(collected.bytes).toBeGreaterThan(0);
    expect(collected.bytes).toBeLessThan(64 * 1024);
    for (const object of [head1, `${head1}^{tree}`, `${head1}:agent-one.txt`]) await git(collected.repository, ["cat-file", "-e", object]);
    expect(await git(collected.repository, ["log", "--format=%s", "-1", "refs/heads/issue-1"])).toBe("agent: one\n");
    expect(await git(store, ["for-each-ref"])).toBe(storeRefs);
    expect(await objectCount(store)).toBe(storeObjects);

    // A follow-up collect brings only what came after the first, in fewer bytes.
    await sh(first, "echo two > agent-two.txt && git add agent-two.txt && git commit --quiet -m 'agent: two'");
    const head2 = (await sh(first, "git rev-parse HEAD")).trim();
    const again = await transport.collect(first, { instance: "w1", path: WORKSPACE, branch: "issue-1", user: WORKER_USER });
    expect(again.sha).toBe(head2);
    const added = (await objectCount(again.repository)) - count;
    expect(added).toBeGreaterThanOrEqual(3);
    expect(added).toBeLessThanOrEqual(6);
    expect(again.bytes).toBeGreaterThan(0);
    expect(again.bytes).toBeLessThan(collected.bytes + 1024);
    expect(await git(store, ["for-each-ref"])).toBe(storeRefs);
    // The other worker saw none of it: its checkout is a claim of its own.
    expect(await sh(second, "git rev-parse HEAD; ls agent-one.txt 2>/dev/null | wc -l")).toBe(`${base}\n0\n`);

    // The instance gone for good: its pod, then its checkout claim and quarantine; the host's keeper, then its mirror claim.
    for (const [pod, instance] of [
      [first, "w1"],
      [second, "w2"],
    ] as const) {
      expect(await runtime.remove(pod)).toBe(true);
      pods.splice(pods.indexOf(pod), 1);
      await transport.removeInstance(instance);
      expect(kube.claims.has(checkoutVolumeName(projectId, instance))).toBe(false);
    }
    await transport.close();
    expect(await runtime.removeVolume(mirrorVolumeName(projectId))).toBe(true);
    expect(await runtime.removeVolume(mirrorVolumeName(projectId))).toBe(false);
    expect([...kube.claims.keys()]).toEqual([]);
    expect([...kube.pods.keys()]).toEqual([]);
  });
});
