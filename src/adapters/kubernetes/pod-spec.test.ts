import { describe, expect, it } from "vitest";
import { WORKER_CAPABILITIES, type ContainerCreateSpec } from "../../core/devcontainer/create-options.ts";
import { UserError } from "../../core/errors.ts";
import { claimViolations } from "../../../test/support/fake-kube/claim-schema.ts";
import { podViolations } from "../../../test/support/fake-kube/pod-schema.ts";
import { fromKubernetesLabels, isLabelValue, labelSelector, podNameFor, toKubernetesLabels } from "./labels.ts";
import { infoOf, podFor, stateOf } from "./pod-spec.ts";
import { claimsOf } from "./volume-claims.ts";

const PROJECT_DIR = "/home/someone/projects/a project with spaces and a name longer than sixty-three characters";

function spec(overrides: Partial<ContainerCreateSpec> = {}): ContainerCreateSpec {
  return {
    name: "cspace-demo-issue-7",
    Image: "registry.example/worker:1",
    Env: ["A=1", "EQUALS=x=y"],
    Labels: { "dev.cspace.instance": "issue-7", "dev.cspace.project-dir": PROJECT_DIR, "dev.cspace.host": "k8s" },
    User: "1000:1000",
    WorkingDir: "/workspaces/demo",
    Entrypoint: ["/bin/sh", "-c"],
    Cmd: ["sleep infinity"],
    HostConfig: { Mounts: [], Memory: 2 * 1024 ** 3, NanoCpus: 1_500_000_000, PidsLimit: 512, CapDrop: ["ALL"], CapAdd: [...WORKER_CAPABILITIES, "SYS_PTRACE"], SecurityOpt: ["no-new-privileges"], Init: true },
    ...overrides,
  };
}

describe("cspace's labels on pods", () => {
  it("keeps labels Kubernetes accepts as they are, and the others in annotations selected through a hash label", () => {
    const { labels, annotations } = toKubernetesLabels(spec().Labels);
    expect(labels["dev.cspace.instance"]).toBe("issue-7");
    expect(labels["dev.cspace.project-dir"]).toBeUndefined();
    expect(labels["cspace-hash/dev.cspace.project-dir"]).toMatch(/^[0-9a-f]{63}$/);
    expect(annotations["cspace-label/dev.cspace.project-dir"]).toBe(JSON.stringify(["dev.cspace.project-dir", PROJECT_DIR]));
    for (const value of Object.values(labels)) expect(isLabelValue(value)).toBe(true);
    expect(fromKubernetesLabels(labels, annotations)).toEqual(spec().Labels);
  });

  it("selects on exactly what it writes, so two paths never select each other's pods", () => {
    const one = labelSelector({ "dev.cspace.project-dir": "/a/b c" });
    const other = labelSelector({ "dev.cspace.project-dir": "/a/b d" });
    expect(one).toMatch(/^cspace-hash\/dev\.cspace\.project-dir=[0-9a-f]{63}$/);
    expect(one).not.toBe(other);
    expect(labelSelector({ "dev.cspace.instance": "issue-7" })).toBe("dev.cspace.instance=issue-7");
  });

  it("maps a key Kubernetes would refuse to a digest, and still reads it back", () => {
    const odd = { "has space/and:colon": "v" };
    const { labels, annotations } = toKubernetesLabels(odd);
    expect(Object.keys(labels)[0]).toMatch(/^cspace-hash\/k[0-9a-f]{40}$/);
    expect(fromKubernetesLabels(labels, annotations)).toEqual(odd);
  });

  it("names pods with DNS names, keeping names that already are one", () => {
    expect(podNameFor("cspace-demo-issue-7")).toBe("cspace-demo-issue-7");
    const mapped = podNameFor("cspace_Demo_Issue_7");
    expect(mapped).toMatch(/^cspace-demo-issue-7-[0-9a-f]{12}$/);
    expect(podNameFor("cspace_demo_issue_7")).not.toBe(mapped);
    expect(podNameFor(mapped)).toBe(mapped);
  });
});

describe("the pod for a container spec", () => {
  it("is hardened as a Docker worker is, with its limits, env and a restart policy of Never", () => {
    const pod = podFor(spec(), "agents");
    const container = pod.spec?.containers[0];
    expect(pod.spec?.restartPolicy).toBe("Never");
    expect(pod.spec?.automountServiceAccountToken).toBe(false);
    expect(pod.spec?.shareProcessNamespace).toBe(true);
    expect(container?.securityContext).toEqual({
      runAsUser: 0,
      runAsNonRoot: false,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"], add: [...WORKER_CAPABILITIES, "SYS_PTRACE"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container?.resources?.limits).toEqual({ memory: String(2 * 1024 ** 3), cpu: "1500m" });
    expect(container?.env).toEqual([
      { name: "A", value: "1" },
      { name: "EQUALS", value: "x=y" },
    ]);
    expect(container?.workingDir).toBe("/workspaces/demo");
    expect(pod.metadata?.annotations?.["cspace/user"]).toBe("1000:1000");
    // The main process drops to the container's user, through the same script every exec uses.
    expect(container?.command?.slice(0, 2)).toEqual(["/bin/sh", "-c"]);
    expect(container?.command?.slice(-5)).toEqual(["", "1000:1000", "/bin/sh", "-c", "sleep infinity"]);
  });

  it("lets a devcontainer that opts out of no-new-privileges escalate, as Docker would", () => {
    const pod = podFor(spec({ HostConfig: { ...spec().HostConfig, SecurityOpt: [] } }), "agents");
    expect(pod.spec?.containers[0]?.securityContext?.allowPrivilegeEscalation).toBe(true);
  });

  it("fits the Pod schema", () => {
    expect(podViolations(podFor(spec(), "agents"))).toEqual([]);
    expect(podViolations(podFor(spec({ User: undefined, Entrypoint: undefined, Cmd: ["serve"] }), "agents"))).toEqual([]);
  });

  it("refuses what a pod cannot have: host binds and Docker networks", () => {
    const bind = spec({ HostConfig: { ...spec().HostConfig, Mounts: [{ Type: "bind", Source: "/srv/x", Target: "/x", ReadOnly: true }] } });
    expect(() => podFor(bind, "agents")).toThrow(UserError);
    const network = spec({ HostConfig: { ...spec().HostConfig, NetworkMode: "cspace-egress" } });
    expect(() => podFor(network, "agents")).toThrow(/NetworkPolicy|network/);
  });

  it("mounts a Docker volume as the persistent volume claim of its name", () => {
    const pod = podFor(spec({ HostConfig: { ...spec().HostConfig, Mounts: [{ Type: "volume", Source: "cspace-mirror", Target: "/var/lib/cspace/mirror", ReadOnly: true }] } }), "agents");
    expect(pod.spec?.volumes).toEqual([{ name: "v0", persistentVolumeClaim: { claimName: "cspace-mirror", readOnly: true } }]);
    expect(pod.spec?.containers[0]?.volumeMounts).toEqual([{ name: "v0", mountPath: "/var/lib/cspace/mirror", readOnly: true }]);
  });

  it("reads back as the container it was made from, with Docker's states", () => {
    const pod = podFor(spec(), "agents");
    expect(infoOf(pod)).toMatchObject({ id: "cspace-demo-issue-7", name: "cspace-demo-issue-7", labels: spec().Labels, image: "registry.example/worker:1", state: "created" });
    expect(stateOf({ ...pod, status: { phase: "Running" } })).toBe("running");
    expect(stateOf({ ...pod, status: { phase: "Running", containerStatuses: [{ name: "worker", state: { terminated: { exitCode: 137 } } }] } })).toBe("exited");
    expect(stateOf({ ...pod, status: { phase: "Failed" } })).toBe("exited");
    expect(stateOf({ ...pod, metadata: { ...pod.metadata, deletionTimestamp: "2026-01-01T00:00:00Z" }, status: { phase: "Running" } })).toBe("removing");
  });
});

describe("the claims a container spec's volumes need", () => {
  const mounts = [
    { Type: "volume" as const, Source: "cspace-p_1-mirror", Target: "/var/lib/cspace/store.git", ReadOnly: true, VolumeOptions: { Labels: { "dev.cspace.mirror-of": "p_1", "dev.cspace.project-dir": PROJECT_DIR }, Shared: true } },
    { Type: "volume" as const, Source: "cspace-p_1-work-issue-7", Target: "/workspaces/demo", ReadOnly: false },
    { Type: "volume" as const, Source: "cspace-p_1-mirror", Target: "/again", ReadOnly: true },
  ];
  const withMounts = spec({ HostConfig: { ...spec().HostConfig, Mounts: mounts } });

  it("is one claim per volume, shared ones ReadWriteMany in the shared storage class, others ReadWriteOnce in the default, each fitting the claim schema", () => {
    const claims = claimsOf(withMounts, { namespace: "agents", sharedStorageClass: "nfs-client" });
    expect(claims.map((c) => [c.spec?.accessModes, c.spec?.storageClassName])).toEqual([
      [["ReadWriteMany"], "nfs-client"],
      [["ReadWriteOnce"], undefined],
    ]);
    for (const claim of claims) expect(claimViolations(claim)).toEqual([]);
    // The pod mounts the claims by the names they are made with.
    expect(podFor(withMounts, "agents").spec?.volumes?.map((v) => v.persistentVolumeClaim?.claimName)).toEqual(claims.map((c) => c.metadata?.name).concat(claims[0]?.metadata?.name ?? ""));
    expect(podViolations(podFor(withMounts, "agents"))).toEqual([]);
  });

  it("labels a claim as its volume (long values through the hash label) or, without volume labels, as the container", () => {
    const [mirror, work] = claimsOf(withMounts, { namespace: "agents" });
    expect(fromKubernetesLabels(mirror?.metadata?.labels, mirror?.metadata?.annotations)).toEqual({ "dev.cspace.mirror-of": "p_1", "dev.cspace.project-dir": PROJECT_DIR });
    expect(mirror?.metadata?.annotations?.["cspace/volume-name"]).toBe("cspace-p_1-mirror");
    expect(fromKubernetesLabels(work?.metadata?.labels, work?.metadata?.annotations)).toEqual(spec().Labels);
  });
});
