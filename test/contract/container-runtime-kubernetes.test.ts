import { mkdir, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { mkdtemp, realpath } from "node:fs/promises";
import { openKubernetesRuntime } from "../../src/adapters/kubernetes/runtime.ts";
import { startFakeKube, type FakeKube } from "../support/fake-kube/server.ts";
import { containerRuntimeContract, type RuntimeWorld } from "./container-runtime-contract.ts";

/**
 * The Kubernetes adapter on the project's fake API server: real HTTP, real
 * WebSocket exec (v5.channel.k8s.io), real processes behind each pod. Every
 * Pod the adapter sends, and every one the server answers, must fit the Pod
 * schema (test/support/fake-kube/pod-schema.ts): a world's teardown fails
 * the test when one did not.
 */
export async function fakeKubeWorld(): Promise<RuntimeWorld & { readonly kube: FakeKube }> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "cspace-fake-kube-")));
  const kube = await startFakeKube({ dir });
  // Where file tests write: the pods' processes share this machine's filesystem, so a directory of the test's own.
  const scratch = path.join(dir, "scratch");
  await mkdir(scratch, { mode: 0o755 });
  const runtime = openKubernetesRuntime({ name: "fake", context: kube.context, namespace: kube.namespace, kubeconfig: kube.kubeconfig });
  return {
    kube,
    runtime,
    image: "registry.example/cspace-base:bookworm",
    labels: { "dev.cspace.test": randomBytes(4).toString("hex") },
    scratch,
    kill: (id) => {
      const pod = kube.pods.get(id);
      if (pod === undefined) throw new Error(`the fake has no pod ${id}`);
      pod.killMain();
      return Promise.resolve();
    },
    async teardown() {
      await kube.stop();
      await rm(dir, { recursive: true, force: true });
      if (kube.violations.length > 0) throw new Error(`Pods that break the Pod schema:\n${kube.violations.join("\n")}`);
    },
  };
}

containerRuntimeContract("Kubernetes on the fake API server", { commands: true, files: true, mainProcess: true, dockerOnly: "unsupported" }, fakeKubeWorld);
