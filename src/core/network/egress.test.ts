import { describe, expect, it } from "vitest";
import { containerCreateSpec } from "../devcontainer/create-options.ts";
import { parseDevcontainer } from "../devcontainer/parse.ts";
import { egressNames, NO_PROXY, PROXY_URL, workerNetwork } from "./egress.ts";

describe("workerNetwork", () => {
  it("leaves an open worker on Docker's default network, with no proxy", () => {
    expect(workerNetwork({ kind: "open" }, "demo-1234")).toEqual({ env: {} });
  });

  it("gives a worker no network at all for none", () => {
    expect(workerNetwork({ kind: "none" }, "demo-1234")).toEqual({ mode: "none", env: {} });
  });

  it("puts an allowlisted worker on the project's internal network, with the proxy in both spellings of the variables", () => {
    const network = workerNetwork({ kind: "allow", hosts: ["x.example"] }, "demo-1234");
    expect(network.mode).toBe(egressNames("demo-1234").workersNetwork);
    expect(network.env).toMatchObject({ HTTPS_PROXY: PROXY_URL, HTTP_PROXY: PROXY_URL, https_proxy: PROXY_URL, http_proxy: PROXY_URL, NO_PROXY });
    expect(NO_PROXY).toBe("localhost,127.0.0.1,::1");
  });
});

describe("the create options of a worker", () => {
  const spec = parseDevcontainer(JSON.stringify({ image: "node:20", containerEnv: { HTTPS_PROXY: "http://elsewhere:1" } }), {
    file: "/p/.devcontainer/devcontainer.json",
    context: { localEnv: {}, localWorkspaceFolder: "/p", devcontainerId: "id" },
  });
  const create = (network: ReturnType<typeof workerNetwork> | undefined, env: Record<string, string> = {}) =>
    containerCreateSpec({
      spec,
      imageRef: "node:20",
      name: "w",
      labels: {},
      files: { kind: "host", workspace: "/ws", instanceDir: "/run/x" },
      limits: { memoryBytes: null, nanoCpus: null, pidsLimit: 4096 },
      env,
      network,
    });

  it("carry the network mode and the proxy, over the devcontainer's own proxy", () => {
    const made = create(workerNetwork({ kind: "allow", hosts: [] }, "p-1"));
    expect(made.HostConfig.NetworkMode).toBe("cspace-p-1-workers");
    expect(made.Env).toContain(`HTTPS_PROXY=${PROXY_URL}`);
  });

  it("say nothing of the network when it is open", () => {
    expect(create(workerNetwork({ kind: "open" }, "p-1")).HostConfig).not.toHaveProperty("NetworkMode");
    expect(create(undefined).HostConfig).not.toHaveProperty("NetworkMode");
  });

  it("let container.env have the last word on the variables", () => {
    expect(create(workerNetwork({ kind: "allow", hosts: [] }, "p-1"), { NO_PROXY: "localhost,internal.example" }).Env).toContain("NO_PROXY=localhost,internal.example");
  });
});
