import { randomBytes } from "node:crypto";
import { openKubernetesRuntime } from "../../src/adapters/kubernetes/runtime.ts";
import { containerRuntimeContract } from "../contract/container-runtime-contract.ts";

/**
 * The ContainerRuntime contract against a REAL cluster: `npm run test:k8s`
 * with CSPACE_K8S_CONTEXT (a context of your kubeconfig) and
 * CSPACE_K8S_NAMESPACE (a namespace you may create, exec into and delete pods
 * in); CSPACE_K8S_IMAGE names an image the cluster can pull with sh, tar,
 * stat, getent and setpriv (default debian:bookworm-slim). Opt-in only: never
 * in `npm test` or CI. Each test's pods carry a label of this run and are
 * deleted after it.
 */
const context = process.env.CSPACE_K8S_CONTEXT ?? "";
const namespace = process.env.CSPACE_K8S_NAMESPACE ?? "default";
const image = process.env.CSPACE_K8S_IMAGE ?? "debian:bookworm-slim";
const run = randomBytes(4).toString("hex");

containerRuntimeContract(`Kubernetes on context ${context}, namespace ${namespace}`, { commands: true, files: true, mainProcess: true, dockerOnly: "unsupported" }, () => {
  const runtime = openKubernetesRuntime({ name: "test-k8s", context, namespace });
  const labels = { "dev.cspace.test": run };
  return Promise.resolve({
    runtime,
    image,
    labels,
    scratch: "/tmp",
    // The contract's main process is a shell that exits on TERM: the pod's container then ends, as a crash would end it.
    kill: async (id) => {
      await runtime.exec(id, ["kill", "-TERM", "1"], { user: "0" });
    },
    async teardown() {
      for (const pod of await runtime.list(labels)) await runtime.remove(pod.id);
    },
  });
});
