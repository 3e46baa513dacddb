import { describe, expect, it } from "vitest";
import { resolveConfig } from "./layers.ts";
import { resolvePlainConfig } from "./plain.ts";
import { dockerUrlProblem } from "./rules.ts";

// `workers.hosts` and `workers.placement`: what a user writes, what cspace
// makes of it, and the line it prints when something is wrong.

const input = (workers: unknown, local?: unknown) => ({
  files: [{ source: ".cspace.json", value: { workers } }, ...(local === undefined ? [] : [{ source: ".cspace.local.json", value: local }])],
  env: {},
  defaultProjectName: "demo",
});

function problems(workers: unknown): string {
  try {
    resolveConfig(input(workers));
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`expected ${JSON.stringify(workers)} to be refused`);
}

describe("workers", () => {
  it("defaults to the local engine alone, filled first", () => {
    const config = resolveConfig({ files: [], env: {}, defaultProjectName: "demo" });
    expect(config.workers).toEqual({ hosts: [{ name: "local" }], placement: "local-first", lostAfterSeconds: 60 });
  });

  it("takes the hosts of the issue's example as written, and the plain check agrees without zod", () => {
    const workers = {
      hosts: [
        { name: "local" },
        { name: "big", docker: "ssh://ci@build-1.internal:22", slots: 12, ssh: { identityFile: "~/.ssh/id_ed25519", knownHosts: "~/.ssh/known_hosts" } },
        { name: "k8s", kubernetes: { context: "dev", namespace: "agents" }, slots: 30 },
        { name: "k8s-nfs", kubernetes: { namespace: "agents", sharedStorageClass: "nfs-client" } },
        { name: "ci-box", docker: "tcp://10.0.0.5:2376" },
        { name: "other", docker: "unix:///var/run/docker.sock" },
      ],
      placement: "spread",
      lostAfterSeconds: 120,
    };
    const config = resolveConfig(input(workers));
    expect(config.workers).toEqual(workers);
    expect(resolvePlainConfig(input(workers))).toEqual(config);
  });

  it("lets .cspace.local.json replace the list (lists replace, as every list does)", () => {
    const config = resolveConfig(input({ hosts: [{ name: "local" }, { name: "big", docker: "ssh://ci@big" }] }, { workers: { hosts: [{ name: "laptop" }] } }));
    expect(config.workers.hosts).toEqual([{ name: "laptop" }]);
  });

  it.each([
    [{ lostAfterSeconds: 2 }, /workers\.lostAfterSeconds: got 2 — expected an integer from 5 to 86400/],
    [{ hosts: [{ name: "a" }, { name: "a", docker: "tcp://h:2375" }] }, /workers\.hosts\[1\]\.name: got "a" — expected a name no other host has: hosts\[0\] is named that too/],
    [{ hosts: [{ name: "local" }, { name: "laptop" }] }, /workers\.hosts\[1\]: got an object .* — expected at most one host without docker or kubernetes \(the local engine\): hosts\[0\] is already the local engine/],
    [{ hosts: [{ name: "x", docker: "tcp://h:2375", kubernetes: { namespace: "a" } }] }, /workers\.hosts\[0\]\.kubernetes: .* — expected either docker or kubernetes in one host, not both/],
    [{ hosts: [{ name: "x", docker: "tcp://h:2375", ssh: { identityFile: "~/.ssh/k" } }] }, /workers\.hosts\[0\]\.ssh: .* — expected ssh settings only with an ssh:\/\/ engine/],
    [{ hosts: [{ name: "x", ssh: {} }] }, /workers\.hosts\[0\]\.ssh: .* — expected ssh settings only with an ssh:\/\/ engine/],
    [{ hosts: [{ name: "Big Box" }] }, /workers\.hosts\[0\]\.name: got "Big Box" — expected a host name of 1 to 63 characters/],
    [{ hosts: [{ name: "edge-" }] }, /workers\.hosts\[0\]\.name: got "edge-" — expected a host name/],
    [{ hosts: [{ name: "x", docker: "http://h" }] }, /workers\.hosts\[0\]\.docker: got "http:\/\/h" — expected the engine's address: "unix:\/\/\/path\/to\/docker\.sock", "tcp:\/\/host:port" or "ssh:\/\/user@host\[:port\]"/],
    [{ hosts: [{ name: "x", docker: "ssh://ci:secret@h" }] }, /workers\.hosts\[0\]\.docker: .* — expected no password in the URL/],
    [{ hosts: [{ name: "x", docker: "ssh://h/var/run/docker.sock" }] }, /expected nothing after the host and port, like "ssh:\/\/ci@build-1\.internal:22" \(the engine's socket there is ssh\.socket\)/],
    [{ hosts: [{ name: "x", docker: "unix://docker.sock" }] }, /expected an absolute socket path after unix:\/\//],
    [{ hosts: [{ name: "x", slots: 0 }] }, /workers\.hosts\[0\]\.slots: got 0 — expected an integer ≥ 1 \(how many workers the host runs at once\)/],
    [{ hosts: [{ name: "k", kubernetes: { context: "dev" } }] }, /workers\.hosts\[0\]\.kubernetes\.namespace: missing — expected a Kubernetes namespace/],
    [{ hosts: [{ name: "k", kubernetes: { namespace: "a", sharedStorageClass: "NFS Client" } }] }, /workers\.hosts\[0\]\.kubernetes\.sharedStorageClass: got "NFS Client" — expected the name of a StorageClass that provides ReadWriteMany volumes/],
    [{ hosts: [] }, /workers\.hosts: got a list \[\] — expected a list of at least one host/],
    [{ hosts: [{ name: "x", dockr: "tcp://h:1" }] }, /workers\.hosts\[0\]\.dockr: unknown key — did you mean "docker"\?/],
    [{ placement: "round-robin" }, /workers\.placement: got "round-robin" — expected "local-first" .* or "spread"/],
  ])("refuses %j naming the key and what is valid", (workers, message) => {
    expect(problems(workers)).toMatch(message);
    expect(resolvePlainConfig(input(workers))).toBeUndefined();
  });
});

describe("dockerUrlProblem", () => {
  it.each(["unix:///var/run/docker.sock", "tcp://build-1:2376", "tcp://[fd00::1]:2375", "ssh://ci@build-1.internal", "ssh://build-1.internal:2222", "ssh://ci@10.0.0.5:22/"])(
    "accepts %s",
    (url) => {
      expect(dockerUrlProblem(url)).toBeNull();
    },
  );

  it.each(["", "docker.sock", "unix://", "tcp://", "tcp://u@h:1", "ssh://", "npipe:////./pipe/docker_engine", "tcp://h:2375?x=1"])("refuses %j", (url) => {
    expect(dockerUrlProblem(url)).toMatch(/^expected /);
  });
});
