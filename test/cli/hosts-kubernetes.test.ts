import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { execa } from "execa";
import { afterEach, describe, expect, it } from "vitest";
import { binPath, cleanEnv, repoRoot } from "../support/cli.ts";
import { startFakeKube, type FakeKube } from "../support/fake-kube/server.ts";
import { makeProject } from "../support/temp-project.ts";

// A Kubernetes host in workers.hosts, through the built binary, against the
// project's own Kubernetes API server (test/support/fake-kube): the
// composition root opens the Kubernetes adapter for it, and doctor and list
// reach the cluster. No real cluster runs here (README, Beyond one machine).

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(kubernetes: (kube: FakeKube) => Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const scratch = await mkdtemp(path.join(os.tmpdir(), "cspace-hosts-k8s-"));
  cleanups.push(() => rm(scratch, { recursive: true, force: true }));
  const kube = await startFakeKube({ dir: scratch });
  cleanups.push(() => kube.stop());
  const project = await makeProject({ config: { project: { name: "hosts-k8s" }, workers: { hosts: [{ name: "k8s", kubernetes: kubernetes(kube), slots: 30 }] }, ...extra } });
  cleanups.push(() => project.remove());
  // A cluster builds no image: the workers' is named (cspace's own devcontainer builds one).
  await mkdir(path.join(project.dir, ".devcontainer"));
  await writeFile(path.join(project.dir, ".devcontainer", "devcontainer.json"), JSON.stringify({ image: "registry.example/cspace-base:bookworm" }));
  // The spawned binary is asynchronous here: the API server answers from this process.
  const cli = (args: readonly string[]) =>
    execa(process.execPath, [binPath, ...args, "--cwd", project.dir], { cwd: repoRoot, env: { ...cleanEnv(), CSPACE_RUN_DIR: path.join(scratch, "run") }, extendEnv: false, reject: false, timeout: 60_000 });
  return { kube, cli };
}

interface DoctorJson {
  readonly checks: readonly { readonly id: string; readonly title: string; readonly status: string; readonly detail: string }[];
}

describe("a Kubernetes host in the built binary", () => {
  it("doctor reaches the cluster through the host's kubeconfig and context and passes its check", async () => {
    const { kube, cli } = await setup((k) => ({ context: k.context, namespace: k.namespace, kubeconfig: k.kubeconfig }));
    const result = await cli(["doctor", "--json"]);
    const report = JSON.parse(result.stdout) as DoctorJson;
    const host = report.checks.filter((check) => check.id === "host");
    expect(host).toHaveLength(1);
    expect(host[0]).toMatchObject({ title: "Host k8s", status: "pass" });
    expect(host[0]?.detail).toMatch(/^Kubernetes v1\.30\.0-fake at kubernetes:\/\/fake\/agents, 30 slots; worker image registry\.example\/cspace-base:bookworm is pulled by the cluster's nodes/);
    expect(kube.requests).toContain("GET /version");
  });

  it("doctor fails the host's check when container.network asks for an allowlist, which the cluster cannot enforce", async () => {
    const { cli } = await setup((k) => ({ context: k.context, namespace: k.namespace, kubeconfig: k.kubeconfig }), { container: { network: { allow: ["@npm"] } } });
    const result = await cli(["doctor", "--json"]);
    expect(result.exitCode).toBe(1);
    const host = (JSON.parse(result.stdout) as DoctorJson).checks.find((check) => check.id === "host");
    expect(host).toMatchObject({ title: "Host k8s", status: "fail" });
    expect(host?.detail).toContain("container.network an allowlist cannot be enforced on a Kubernetes cluster");
  });

  it("doctor fails the host's check naming the context and the kubeconfig when the context is not there", async () => {
    const { cli } = await setup((k) => ({ context: "prod", namespace: k.namespace, kubeconfig: k.kubeconfig }));
    const result = await cli(["doctor", "--json"]);
    expect(result.exitCode).toBe(1);
    const report = JSON.parse(result.stdout) as DoctorJson;
    const host = report.checks.find((check) => check.id === "host");
    expect(host?.status).toBe("fail");
    expect(host?.detail).toMatch(/^host k8s: .*prod/);
    expect(host?.detail).toContain("kubeconfig.json");
  });

  it("list asks the cluster for the project's workers and lists none, with the host answering", async () => {
    const { kube, cli } = await setup((k) => ({ context: k.context, namespace: k.namespace, kubeconfig: k.kubeconfig }));
    const result = await cli(["list", "--json"]);
    expect(result.exitCode, result.stderr).toBe(0);
    const listing = JSON.parse(result.stdout) as { instances: unknown[]; unreachableHosts: unknown[] };
    expect(listing).toMatchObject({ instances: [], unreachableHosts: [] });
    expect(kube.requests.some((request) => request.startsWith("GET /api/v1/namespaces/agents/pods"))).toBe(true);
  });
});
