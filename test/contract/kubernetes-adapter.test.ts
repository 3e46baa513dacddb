import { mkdtemp, realpath, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openKubernetesRuntime } from "../../src/adapters/kubernetes/runtime.ts";
import { WORKER_CAPABILITIES, type ContainerCreateSpec } from "../../src/core/devcontainer/create-options.ts";
import { ExternalError, UserError } from "../../src/core/errors.ts";
import type { ContainerRuntime } from "../../src/core/instances/ports.ts";
import { startFakeKube, type FakeKube, type FakeKubeOptions } from "../support/fake-kube/server.ts";

/**
 * What the Kubernetes adapter must do beyond the shared contract: keep
 * watching across the server's ends of a watch, relist after 410 Gone, close
 * a command's input over v5 (and refuse an older protocol rather than lose
 * the exit code), say which permission a 403 lacks, and report a stopped pod
 * exactly once.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function cluster(options: Partial<FakeKubeOptions> = {}): Promise<{ kube: FakeKube; runtime: ContainerRuntime }> {
  const dir = await realpath(await mkdtemp(path.join(os.tmpdir(), "cspace-fake-kube-")));
  const kube = await startFakeKube({ dir, ...options });
  cleanups.push(async () => {
    await kube.stop();
    await rm(dir, { recursive: true, force: true });
    expect(kube.violations).toEqual([]);
  });
  return { kube, runtime: openKubernetesRuntime({ name: "k8s", context: kube.context, namespace: kube.namespace, kubeconfig: kube.kubeconfig }) };
}

function spec(instance: string): ContainerCreateSpec {
  return {
    name: `cspace-${instance}`,
    Image: "registry.example/worker:1",
    Env: [],
    Labels: { "dev.cspace.instance": instance, "dev.cspace.project-dir": "/srv/the project" },
    WorkingDir: "/",
    Entrypoint: ["/bin/sh", "-c"],
    Cmd: ["trap 'exit 0' TERM; while sleep 3600 & wait $!; do :; done"],
    HostConfig: { Mounts: [], CapDrop: ["ALL"], CapAdd: [...WORKER_CAPABILITIES], SecurityOpt: ["no-new-privileges"] },
  };
}

async function running(runtime: ContainerRuntime, instance: string): Promise<string> {
  const id = await runtime.create(spec(instance));
  cleanups.push(async () => {
    await runtime.remove(id);
  });
  await runtime.start(id);
  return id;
}

/** Resolves once `probe` holds; the test's timeout bounds it. */
async function until(probe: () => boolean): Promise<void> {
  for (let wait = 5; !probe(); wait = Math.min(wait * 2, 200)) await new Promise((resolve) => setTimeout(resolve, wait));
}

/** Reports of stopped pods, and a way to wait for the next. */
function reports(): { readonly seen: Readonly<Record<string, string>>[]; onStopped: (labels: Readonly<Record<string, string>>) => void; next(count: number): Promise<void> } {
  const seen: Readonly<Record<string, string>>[] = [];
  return {
    seen,
    onStopped: (labels) => seen.push(labels),
    next: (count) => until(() => seen.length >= count),
  };
}

describe("the Kubernetes adapter's watch", () => {
  it("reopens a watch the server ended, from the last version it saw, and misses nothing in between", async () => {
    const { kube, runtime } = await cluster();
    const a = await running(runtime, "a");
    const b = await running(runtime, "b");
    const heard = reports();
    const unwatch = await runtime.watchStopped({ "dev.cspace.project-dir": "/srv/the project" }, heard.onStopped);
    cleanups.push(() => {
      unwatch();
      return Promise.resolve();
    });
    const lists = (): number => kube.requests.filter((r) => r === "GET /api/v1/namespaces/agents/pods").length;
    expect(lists()).toBe(1);

    // The server ends the watch and a pod goes while no watch is open: the reopened one must start before that change.
    let release = kube.holdWatches();
    kube.closeWatches();
    await runtime.remove(a);
    release();
    await heard.next(1);
    expect(heard.seen).toEqual([{ "dev.cspace.instance": "a", "dev.cspace.project-dir": "/srv/the project" }]);

    // Again, resuming from a bookmark's version this time.
    await until(() => kube.openWatches() === 1);
    kube.bookmark();
    release = kube.holdWatches();
    kube.closeWatches();
    await runtime.remove(b);
    release();
    await heard.next(2);
    expect(heard.seen.map((labels) => labels["dev.cspace.instance"])).toEqual(["a", "b"]);
    // Watches only: resuming needed no second list.
    expect(lists()).toBe(1);
  });

  it("lists again after 410 Gone and reports the pods deleted while its version was too old", async () => {
    const { kube, runtime } = await cluster();
    const a = await running(runtime, "a");
    await running(runtime, "b");
    const heard = reports();
    const unwatch = await runtime.watchStopped({ "dev.cspace.project-dir": "/srv/the project" }, heard.onStopped);
    cleanups.push(() => {
      unwatch();
      return Promise.resolve();
    });

    const release = kube.holdWatches();
    kube.closeWatches();
    await runtime.remove(a);
    // The history with a's deletion is gone: the adapter's version is too old, and only a new list shows a is missing.
    kube.compact();
    release();
    await heard.next(1);
    expect(heard.seen).toEqual([{ "dev.cspace.instance": "a", "dev.cspace.project-dir": "/srv/the project" }]);
    expect(kube.requests.filter((r) => r === "GET /api/v1/namespaces/agents/pods")).toHaveLength(2);
    await until(() => kube.openWatches() === 1);
  });

  it("reports a pod once though it stops and is then deleted", async () => {
    const { kube, runtime } = await cluster();
    const a = await running(runtime, "a");
    const heard = reports();
    const unwatch = await runtime.watchStopped({ "dev.cspace.instance": "a" }, heard.onStopped);
    cleanups.push(() => {
      unwatch();
      return Promise.resolve();
    });
    kube.pods.get(a)?.killMain();
    await heard.next(1);
    await runtime.remove(a);
    // A later pod of the same instance, removed: events come in order, so when it is reported a's deletion was seen.
    const again = await runtime.create({ ...spec("a"), name: "cspace-a-again" });
    await runtime.remove(again);
    await heard.next(2);
    expect(heard.seen).toHaveLength(2);
  });
});

describe("the Kubernetes adapter's exec", () => {
  it("closes a command's input over v5 without losing its output or exit code", async () => {
    const { runtime } = await cluster();
    const id = await running(runtime, "a");
    const stream = await runtime.execStream(id, ["/bin/sh", "-c", "cat; echo end-of-input-seen; exit 7"]);
    const chunks: Buffer[] = [];
    stream.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    stream.stdin.end("all of it\n");
    expect(await stream.exit).toBe(7);
    expect(Buffer.concat(chunks).toString()).toBe("all of it\nend-of-input-seen\n");
  });

  it("keeps only the tail of a flood of output, as the Docker adapter does", async () => {
    const { runtime } = await cluster();
    const id = await running(runtime, "a");
    // A worker's command is untrusted: 8 MiB on stdout must not all land in the host's memory.
    const outcome = await runtime.exec(id, ["/bin/sh", "-c", "head -c 8388608 /dev/zero | tr '\\0' x; echo the-end"]);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.stdout.length).toBeLessThanOrEqual(256 * 1024 + 64 * 1024);
    expect(outcome.stdout.endsWith("xthe-end\n")).toBe(true);
  });

  it("refuses to stream input to a server that speaks only v4, which cannot close it", async () => {
    const { runtime } = await cluster({ execProtocols: ["v4.channel.k8s.io"] });
    const id = await running(runtime, "a");
    // Without input, v4 carries the exit code as v5 does.
    expect(await runtime.exec(id, ["/bin/sh", "-c", "exit 5"])).toMatchObject({ exitCode: 5 });
    const refused = runtime.execStream(id, ["cat"]);
    await expect(refused).rejects.toBeInstanceOf(ExternalError);
    await expect(refused).rejects.toThrow(/v5\.channel\.k8s\.io/);
  });
});

describe("the Kubernetes adapter's errors", () => {
  it("says which verb on which resource the account lacks", async () => {
    const { kube, runtime } = await cluster();
    kube.forbid("create", "pods");
    const refused = runtime.create(spec("a"));
    await expect(refused).rejects.toBeInstanceOf(ExternalError);
    await expect(refused).rejects.toThrow(/cannot create pod cspace-a .*namespace agents \(context fake\): forbidden/);
    await expect(refused).rejects.toMatchObject({ hint: expect.stringContaining('lacks "create" on "pods" in namespace agents') as unknown });
  });

  it("says which permission listing the project's claims lacks (down --all needs list on persistentvolumeclaims)", async () => {
    const { kube, runtime } = await cluster();
    kube.forbid("list", "persistentvolumeclaims");
    const refused = runtime.listVolumes({ "dev.cspace.mirror-of": "p" });
    await expect(refused).rejects.toBeInstanceOf(ExternalError);
    await expect(refused).rejects.toThrow(/cannot list persistent volume claims .*namespace agents \(context fake\): forbidden/);
    await expect(refused).rejects.toMatchObject({ hint: expect.stringContaining('lacks "list" on "persistentvolumeclaims"') as unknown });
  });

  it("says a pod is not there, and which permission an exec lacks", async () => {
    const { kube, runtime } = await cluster();
    await expect(runtime.exec("cspace-gone", ["true"])).rejects.toThrow(/cannot run true in pod cspace-gone in namespace agents \(context fake\): it is not there/);
    const id = await running(runtime, "a");
    kube.forbid("create", "pods/exec");
    const refused = runtime.exec(id, ["true"]);
    await expect(refused).rejects.toBeInstanceOf(ExternalError);
    await expect(refused).rejects.toMatchObject({ hint: expect.stringContaining('lacks "create" on "pods/exec"') as unknown });
  });

  it("names the contexts there are when the one asked for is not in the kubeconfig", async () => {
    const { kube } = await cluster();
    const runtime = openKubernetesRuntime({ name: "k8s", context: "prod", namespace: "agents", kubeconfig: kube.kubeconfig });
    const refused = runtime.list({});
    await expect(refused).rejects.toBeInstanceOf(UserError);
    await expect(refused).rejects.toThrow(/no context "prod"/);
    await expect(refused).rejects.toMatchObject({ hint: expect.stringContaining("fake") as unknown });
  });

  it("refuses a container that mounts the host's files, saying how a Kubernetes worker gets them", async () => {
    const { runtime } = await cluster();
    const withBind = { ...spec("a"), HostConfig: { ...spec("a").HostConfig, Mounts: [{ Type: "bind" as const, Source: "/home/me/project", Target: "/workspaces/project", ReadOnly: false }] } };
    const refused = runtime.create(withBind);
    await expect(refused).rejects.toBeInstanceOf(UserError);
    await expect(refused).rejects.toThrow("/home/me/project");
  });
});

describe("the Kubernetes adapter's volumes: persistent volume claims", () => {
  function mounting(instance: string, mounts: ContainerCreateSpec["HostConfig"]["Mounts"]): ContainerCreateSpec {
    return { ...spec(instance), HostConfig: { ...spec(instance).HostConfig, Mounts: mounts } };
  }

  it("makes a shared volume's claim ReadWriteMany in the host's storage class and any other ReadWriteOnce, labelled as the volume, named as a DNS name", async () => {
    const { kube } = await cluster();
    const runtime = openKubernetesRuntime({ name: "k8s", context: kube.context, namespace: kube.namespace, kubeconfig: kube.kubeconfig, sharedStorageClass: "nfs-client" });
    const volumeLabels = { "dev.cspace.mirror-of": "demo", "dev.cspace.project-dir": "/srv/the project" };
    const id = await runtime.create(
      mounting("a", [
        { Type: "volume", Source: "cspace-demo-mirror", Target: "/mirror", ReadOnly: true, VolumeOptions: { Labels: volumeLabels, Shared: true } },
        { Type: "volume", Source: "cspace-Demo_work", Target: "/work", ReadOnly: false },
      ]),
    );
    cleanups.push(async () => {
      await runtime.remove(id);
    });
    const mirror = kube.claims.get("cspace-demo-mirror")?.manifest;
    expect(mirror?.spec).toEqual({ accessModes: ["ReadWriteMany"], resources: { requests: { storage: "10Gi" } }, storageClassName: "nfs-client" });
    expect(mirror?.metadata?.labels?.["dev.cspace.mirror-of"]).toBe("demo");
    expect((await runtime.list({})).length).toBe(1);
    // A volume name that is no DNS name gets a claim name that is, and the pod mounts that claim; with no labels of its own it takes the container's.
    const work = [...kube.claims.values()].find((c) => c.manifest.metadata?.annotations?.["cspace/volume-name"] === "cspace-Demo_work")?.manifest;
    expect(work?.metadata?.name).toMatch(/^cspace-demo-work-[0-9a-f]{12}$/);
    expect(work?.spec).toEqual({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } });
    expect(work?.metadata?.labels?.["dev.cspace.instance"]).toBe("a");
    expect(kube.pods.get(id)?.manifest.spec?.volumes?.map((v) => v.persistentVolumeClaim?.claimName)).toEqual(["cspace-demo-mirror", work?.metadata?.name]);
    // A second pod mounting the same volume uses the claim there is.
    const again = await runtime.create(mounting("b", [{ Type: "volume", Source: "cspace-demo-mirror", Target: "/mirror", ReadOnly: true }]));
    cleanups.push(async () => {
      await runtime.remove(again);
    });
    expect(kube.claims.size).toBe(2);
  });

  it("keeps a claim its pod still mounts until the pod is gone, counts it as removed meanwhile, and refuses to mount it again", async () => {
    const { kube, runtime } = await cluster();
    const id = await runtime.create(mounting("a", [{ Type: "volume", Source: "cspace-held", Target: "/held", ReadOnly: false }]));
    expect(await runtime.removeVolume("cspace-held")).toBe(true);
    expect(kube.claims.get("cspace-held")?.manifest.metadata?.deletionTimestamp).toBeDefined();
    expect(await runtime.removeVolume("cspace-held")).toBe(false);
    const refused = runtime.create(mounting("b", [{ Type: "volume", Source: "cspace-held", Target: "/held", ReadOnly: false }]));
    await expect(refused).rejects.toBeInstanceOf(ExternalError);
    await expect(refused).rejects.toThrow(/cannot mount volume cspace-held in container cspace-b: its persistent volume claim cspace-held .* is being deleted/);
    expect(await runtime.inspect("cspace-b")).toBeNull();
    await runtime.remove(id);
    expect(kube.claims.has("cspace-held")).toBe(false);
  });

  it("says which permission on persistentvolumeclaims the account lacks", async () => {
    const { kube, runtime } = await cluster();
    kube.forbid("create", "persistentvolumeclaims");
    const refused = runtime.create(mounting("a", [{ Type: "volume", Source: "cspace-v", Target: "/v", ReadOnly: false }]));
    await expect(refused).rejects.toThrow(/cannot create the persistent volume claim cspace-v for volume cspace-v of container cspace-a in namespace agents \(context fake\): forbidden/);
    await expect(refused).rejects.toMatchObject({ hint: expect.stringContaining('lacks "create" on "persistentvolumeclaims" in namespace agents') as unknown });
    expect(await runtime.inspect("cspace-a")).toBeNull();
    kube.forbid("delete", "persistentvolumeclaims");
    kube.forbid("get", "persistentvolumeclaims");
    await expect(runtime.removeVolume("cspace-v")).rejects.toMatchObject({ hint: expect.stringContaining('lacks "get" on "persistentvolumeclaims"') as unknown });
  });
});
