import { FakeContainerRuntime } from "../fakes/container-runtime.ts";
import { containerRuntimeContract } from "./container-runtime-contract.ts";

/**
 * The in-memory fake the service tests use, held to the ContainerRuntime
 * contract where it models the engine: containers, labels, watches, errors,
 * networks. It runs no commands (tests script what they answer), so the
 * contract's parts about commands, files and logs are not its to pass.
 */
containerRuntimeContract("the in-memory fake", { commands: false, files: false, mainProcess: false, dockerOnly: "supported" }, () => {
  const runtime = new FakeContainerRuntime();
  runtime.images.add("registry.example/contract:1");
  return Promise.resolve({
    runtime,
    image: "registry.example/contract:1",
    labels: { "dev.cspace.test": "fake" },
    scratch: "/tmp",
    kill: (id) => {
      runtime.kill(id);
      return Promise.resolve();
    },
    teardown: () => Promise.resolve(),
  });
});
