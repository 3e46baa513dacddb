import { inject } from "vitest";
import { DockerRuntime } from "../../src/adapters/docker/containers.ts";
import { containerRuntimeContract } from "../contract/container-runtime-contract.ts";
import { BASE_IMAGE, testDocker, testLabels } from "../support/docker.ts";

/**
 * The Docker adapter against the real local engine, held to the same
 * ContainerRuntime contract as the Kubernetes adapter and the fake. What each
 * test makes carries this run's label; the contract removes its containers
 * and networks, and the lane's teardown anything left.
 */
const runId = inject("cspaceTestRun");

containerRuntimeContract("Docker on the local engine", { commands: true, files: true, mainProcess: true, dockerOnly: "supported" }, () =>
  Promise.resolve({
    runtime: new DockerRuntime(process.env),
    image: BASE_IMAGE,
    labels: testLabels(runId),
    scratch: "/tmp",
    kill: async (id) => {
      await testDocker().getContainer(id).kill();
    },
    teardown: () => Promise.resolve(),
  }),
);
