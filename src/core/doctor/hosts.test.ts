import { describe, expect, it } from "vitest";
import type { WorkerHost } from "../hosts/hosts.ts";
import { hostCheck } from "./hosts.ts";

const big: WorkerHost = { name: "big", kind: "ssh", slots: 1, settings: { name: "big", docker: "ssh://ci@big" } };
const answered = { answered: true, version: "24.0.7", apiVersion: "1.43", endpoint: "ssh://ci@big" } as const;

describe("hostCheck", () => {
  it("passes a host whose engine answers, saying its slots and that warm builds a built image there", () => {
    expect(hostCheck(big, answered, { reference: "cspace-app:abc", built: true, present: false })).toEqual({
      id: "host",
      title: "Host big",
      status: "pass",
      required: true,
      detail: "Docker 24.0.7 (API 1.43) at ssh://ci@big, 1 slot; worker image cspace-app:abc not built there yet (the first warm on it builds it)",
    });
    expect(hostCheck(big, answered, { unchecked: "no devcontainer.json" }).detail).toBe("Docker 24.0.7 (API 1.43) at ssh://ci@big, 1 slot; worker image not checked: no devcontainer.json");
  });

  it("says of a Kubernetes host that its nodes pull the image (never that it is there), and fails one whose image must be built", () => {
    const k8s: WorkerHost = { name: "k8s", kind: "kubernetes", slots: 30, settings: { name: "k8s", kubernetes: { context: "dev", namespace: "agents" } } };
    const cluster = { answered: true, version: "v1.30.0", apiVersion: "v1", endpoint: "kubernetes://dev/agents" } as const;
    expect(hostCheck(k8s, cluster, { reference: "registry.example/app:1", built: false, present: true })).toMatchObject({
      status: "pass",
      detail: "Kubernetes v1.30.0 at kubernetes://dev/agents, 30 slots; worker image registry.example/app:1 is pulled by the cluster's nodes as each pod starts (not checked from here)",
    });
    expect(hostCheck(k8s, cluster, { reference: "cspace-image:abc", built: true, present: true })).toMatchObject({
      status: "fail",
      detail: expect.stringContaining("built from a Dockerfile, which a Kubernetes cluster cannot do") as unknown,
      hint: expect.stringContaining('devcontainer.json "image"') as unknown,
    });
    // A network only a Docker network enforces fails it too, as warm refuses it there; a Docker host is not concerned.
    expect(hostCheck(k8s, cluster, { reference: "registry.example/app:1", built: false, present: true }, "allowlist")).toMatchObject({
      status: "fail",
      detail: expect.stringContaining('container.network an allowlist cannot be enforced on a Kubernetes cluster') as unknown,
      hint: expect.stringContaining("NetworkPolicy") as unknown,
    });
    expect(hostCheck(k8s, cluster, null, "none").detail).toContain('container.network "none" cannot be enforced');
    expect(hostCheck(big, answered, null, "allowlist").status).toBe("pass");
  });

  it("fails a host that does not answer, naming it once, with the runtime's hint or one of its own", () => {
    const failed = hostCheck(big, { answered: false, message: "host big: lost the SSH connection", hint: "ssh-keyscan it" }, null);
    expect(failed).toMatchObject({ status: "fail", required: true, detail: "host big: lost the SSH connection", hint: "ssh-keyscan it" });
    expect(hostCheck(big, { answered: false, message: "timed out" }, null)).toMatchObject({ detail: "host big: timed out", hint: expect.stringContaining("remove it from workers.hosts") as unknown });
  });
});
