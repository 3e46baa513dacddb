import { execFile } from "node:child_process";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { ClaimManifest, PodManifest } from "../../../src/adapters/kubernetes/pod-types.ts";
import { claimViolations } from "./claim-schema.ts";
import { serveExec } from "./exec.ts";
import { podViolations } from "./pod-schema.ts";
import { FakePod, newPodIdentity, podDir, type PodMount, type WatchEventType } from "./pods.ts";
import { acceptWebSocket } from "./websocket.ts";

/**
 * A Kubernetes API server of the project's own, speaking what cspace's
 * Kubernetes adapter uses, over HTTPS on loopback (a certificate of its own
 * making, which the kubeconfig trusts, as a cluster's CA is trusted): pods create, get,
 * list and delete (label selectors of `k=v` terms), watch (from a resource
 * version, with bookmarks, 410 Gone for a compacted version), the pod log,
 * /version, and exec over a WebSocket with the channel protocols
 * (v5.channel.k8s.io and its close-stdin frame by default), and
 * PersistentVolumeClaims (create, get, list, delete; 409 for a name taken,
 * bound at once to a directory of their own, kept while a pod mounts them
 * after their deletion, as the pvc-protection finalizer keeps them). Behind
 * each pod are real processes on this machine (./pods.ts), with the claims
 * it mounts bound at their mountPaths in a mount namespace of its own. Every
 * Pod and claim it is sent and answers is checked against the Pod and claim
 * schemas (./pod-schema.ts, ./claim-schema.ts): a request that breaks one
 * gets the apiserver's 422, and `violations` lists everything that broke
 * one, for tests to assert empty.
 */
export interface FakeKube {
  readonly url: string;
  readonly namespace: string;
  /** A kubeconfig file whose context `fake` points here with its token. */
  readonly kubeconfig: string;
  readonly context: string;
  readonly pods: ReadonlyMap<string, FakePod>;
  /** Claims by name, with the directory that holds each one's files. */
  readonly claims: ReadonlyMap<string, FakeClaim>;
  readonly violations: string[];
  /** Every request, as `METHOD path` (`?watch` after a watch's; exec: `EXEC pod`). */
  readonly requests: string[];
  /** Ends every open watch, as an apiserver does when a watch's timeout passes. */
  closeWatches(): void;
  /** Forgets history: a watch from any version older than the current one gets 410 Gone. */
  compact(): void;
  /** Sends a BOOKMARK with the current version to the watches that asked for bookmarks. */
  bookmark(): void;
  /** Answers 403 to `verb` on `resource` (RBAC's names: "create" "pods", "create" "pods/exec", "delete" "persistentvolumeclaims"). */
  forbid(verb: string, resource: string): void;
  /** Holds new watch requests unanswered until the returned function is called: what happens meanwhile, they must catch up on. */
  holdWatches(): () => void;
  /** Number of open watches: tests wait for the adapter to reopen one. */
  openWatches(): number;
  stop(): Promise<void>;
}

export interface FakeKubeOptions {
  /** Where pods' directories and the kubeconfig go. */
  readonly dir: string;
  readonly namespace?: string;
  /** The exec subprotocols it accepts, best first. */
  readonly execProtocols?: readonly string[];
}

export interface FakeClaim {
  manifest: ClaimManifest;
  readonly dir: string;
}

/** The finalizer an apiserver puts on every claim: it is deleted once no pod uses it. */
const PROTECTION = "kubernetes.io/pvc-protection";

type ObjectManifest = PodManifest | ClaimManifest;

/** What the fake does for one kind of object (./server.ts handleObject does the rest, alike for all). */
interface ObjectKind {
  /** RBAC's and the URL's name: "pods". */
  readonly resource: string;
  readonly kind: string;
  /** The ways it breaks its schema (each also recorded as a violation). */
  check(object: unknown, where: string): string[];
  get(name: string): ObjectManifest | undefined;
  list(): ObjectManifest[];
  /** Makes a valid object whose name is free; what the server answers. */
  create(manifest: ObjectManifest): Promise<ObjectManifest>;
  remove(name: string, url: URL): Promise<ObjectManifest>;
  watch?(url: URL, response: ServerResponse): void;
  subresource?(name: string, sub: string, url: URL, response: ServerResponse): void;
}

interface Watcher {
  readonly response: ServerResponse;
  readonly selector: Record<string, string>;
  readonly bookmarks: boolean;
}

const TOKEN = "fake-kube-token";

export async function startFakeKube(options: FakeKubeOptions): Promise<FakeKube> {
  const namespace = options.namespace ?? "agents";
  const pods = new Map<string, FakePod>();
  const claims = new Map<string, FakeClaim>();
  let claimDirs = 0;
  const violations: string[] = [];
  const requests: string[] = [];
  const forbidden = new Set<string>();
  const watchers = new Set<Watcher>();
  const history: { readonly version: number; readonly type: WatchEventType; readonly pod: PodManifest }[] = [];
  let version = 1;
  let compactedBefore = 0;
  let held: (() => void)[] | null = null;

  const check = (pod: unknown, where: string): string[] => {
    const problems = podViolations(pod);
    for (const problem of problems) violations.push(`${where}: ${problem}`);
    return problems;
  };

  const record = (pod: FakePod, type: WatchEventType): void => {
    version += 1;
    pod.manifest = { ...pod.manifest, metadata: { ...pod.manifest.metadata, resourceVersion: String(version) } };
    const snapshot = structuredClone(pod.manifest);
    check(snapshot, `the fake's own ${type} event`);
    history.push({ version, type, pod: snapshot });
    for (const watcher of watchers) {
      if (matches(snapshot, watcher.selector)) watcher.response.write(`${JSON.stringify({ type, object: snapshot })}\n`);
    }
  };

  const setStatus = (pod: FakePod, status: PodManifest["status"]): void => {
    pod.manifest = { ...pod.manifest, status };
    record(pod, "MODIFIED");
  };

  const tls = await selfSignedCertificate(options.dir);
  const server = createServer(tls, (request, response) => {
    void handle(request, response).catch((error: unknown) => {
      sendStatus(response, 500, "InternalError", error instanceof Error ? error.message : String(error));
    });
  });

  const authorised = (request: IncomingMessage): boolean => request.headers.authorization === `Bearer ${TOKEN}`;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? "/", "http://fake");
    requests.push(`${request.method ?? "GET"} ${url.pathname}${url.searchParams.get("watch") === "true" ? "?watch" : ""}`);
    if (!authorised(request)) {
      sendStatus(response, 401, "Unauthorized", "Unauthorized");
      return;
    }
    if (url.pathname === "/version") {
      sendJson(response, 200, { major: "1", minor: "30", gitVersion: "v1.30.0-fake", platform: "linux/amd64" });
      return;
    }
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/(pods|persistentvolumeclaims)(?:\/([^/]+))?(?:\/(log))?$/.exec(url.pathname);
    if (match === null || (match[2] !== "pods" && match[4] !== undefined)) {
      sendStatus(response, 404, "NotFound", `the server could not find the requested resource ${url.pathname}`);
      return;
    }
    const [, ns = "", resource = "", name, sub] = match;
    return handleObject(request, response, url, resource === "pods" ? podKind : claimKind, { namespace: ns, name, sub });
  }

  /**
   * What the apiserver does alike for every kind of object: the namespace,
   * RBAC's verdict, create (a JSON body that fits the kind's schema, 409 for
   * a name taken), list with a label selector, get, delete, 404 and 405.
   * What differs (a pod's processes and its watch and log, a claim's
   * directory and finalizer) is the kind's.
   */
  async function handleObject(request: IncomingMessage, response: ServerResponse, url: URL, kind: ObjectKind, at: { readonly namespace: string; readonly name: string | undefined; readonly sub: string | undefined }): Promise<void> {
    const { name, sub } = at;
    if (at.namespace !== namespace) {
      sendStatus(response, 404, "NotFound", `namespaces "${at.namespace}" not found`);
      return;
    }
    const method = request.method ?? "GET";
    const watch = url.searchParams.get("watch") === "true";
    const verb = sub !== undefined ? "get" : method === "POST" ? "create" : method === "DELETE" ? "delete" : name !== undefined ? "get" : watch ? "watch" : "list";
    const resource = sub === undefined ? kind.resource : `${kind.resource}/${sub}`;
    if (forbidden.has(`${verb} ${resource}`)) {
      sendForbidden(response, verb, resource, namespace);
      return;
    }
    if (name === undefined && method === "POST") {
      let manifest: ObjectManifest;
      try {
        manifest = JSON.parse(await readBody(request)) as ObjectManifest;
      } catch {
        sendStatus(response, 400, "BadRequest", "the request body is not JSON");
        return;
      }
      const problems = kind.check(manifest, `POST ${kind.resource}`);
      if (problems.length > 0) {
        sendStatus(response, 422, "Invalid", `${kind.kind} is invalid: ${problems.join("; ")}`);
        return;
      }
      const taken = manifest.metadata?.name ?? "";
      if (kind.get(taken) !== undefined) {
        sendStatus(response, 409, "AlreadyExists", `${kind.resource} "${taken}" already exists`);
        return;
      }
      sendJson(response, 201, await kind.create(manifest));
      return;
    }
    if (name === undefined && method === "GET" && watch && kind.watch !== undefined) {
      kind.watch(url, response);
      return;
    }
    if (name === undefined && method === "GET") {
      const selector = parseSelector(url.searchParams.get("labelSelector"));
      if (selector === null) {
        sendStatus(response, 400, "BadRequest", `unable to parse requirement: ${url.searchParams.get("labelSelector") ?? ""}`);
        return;
      }
      const items = kind.list().filter((object) => matches(object, selector));
      sendJson(response, 200, { kind: `${kind.kind}List`, apiVersion: "v1", metadata: { resourceVersion: String(version) }, items });
      return;
    }
    const found = name === undefined ? undefined : kind.get(name);
    if (name === undefined || found === undefined) {
      sendStatus(response, 404, "NotFound", `${kind.resource} "${name ?? ""}" not found`);
      return;
    }
    if (sub !== undefined && kind.subresource !== undefined) {
      kind.subresource(name, sub, url, response);
      return;
    }
    if (method === "GET") {
      sendJson(response, 200, found);
      return;
    }
    if (method === "DELETE") {
      sendJson(response, 200, await kind.remove(name, url));
      return;
    }
    sendStatus(response, 405, "MethodNotAllowed", `${method} is not supported on ${kind.resource}/${name}`);
  }

  const podKind: ObjectKind = {
    resource: "pods",
    kind: "Pod",
    check,
    get: (name) => pods.get(name)?.manifest,
    list: () => [...pods.values()].map((p) => p.manifest),
    create: (manifest) => createPod(manifest as PodManifest),
    remove: deletePod,
    watch(url, response) {
      if (held === null) openWatch(url, response);
      else
        held.push(() => {
          openWatch(url, response);
        });
    },
    subresource(name, _sub, url, response) {
      const pod = pods.get(name);
      const sinceSeconds = Number(url.searchParams.get("sinceSeconds") ?? "NaN");
      const from = Number.isFinite(sinceSeconds) ? Date.now() - sinceSeconds * 1000 : 0;
      response.writeHead(200, { "content-type": "text/plain" });
      response.end(Buffer.concat((pod?.log ?? []).filter((entry) => entry.at >= from).map((entry) => entry.chunk)));
    },
  };

  async function deletePod(name: string, url: URL): Promise<PodManifest> {
    const pod = pods.get(name);
    if (pod === undefined) throw new Error(`no pod ${name}`);
    const grace = url.searchParams.get("gracePeriodSeconds");
    if (grace !== "0") violations.push(`DELETE pod ${name}: gracePeriodSeconds=${grace ?? "(default 30)"}, cspace deletes at once`);
    pod.stop();
    pods.delete(name);
    pod.manifest = { ...pod.manifest, metadata: { ...pod.manifest.metadata, deletionTimestamp: new Date().toISOString() } };
    record(pod, "DELETED");
    await releaseClaims();
    return pod.manifest;
  }

  async function createPod(manifest: PodManifest): Promise<PodManifest> {
    const name = manifest.metadata?.name ?? "";
    const { mounts, missing } = mountsOf(manifest);
    const identity = newPodIdentity();
    const pod = new FakePod(
      { ...manifest, metadata: { ...manifest.metadata, namespace, ...identity }, status: { phase: "Pending", containerStatuses: [{ name: manifest.spec?.containers[0]?.name ?? "", state: { waiting: { reason: "ContainerCreating" } } }] } },
      podDir(options.dir, name, identity.uid),
      mounts,
    );
    pods.set(name, pod);
    record(pod, "ADDED");
    const containerName = pod.container.name;
    if (missing.length > 0) {
      // A cluster would leave it Pending ("unbound PersistentVolumeClaims") for ever; the fake says why at once, and counts it.
      violations.push(`POST pods ${name}: mounts claims that do not exist or are being deleted: ${missing.join(", ")}`);
      setStatus(pod, { phase: "Pending", containerStatuses: [{ name: containerName, state: { waiting: { reason: "CreateContainerConfigError", message: `persistentvolumeclaim "${missing[0] ?? ""}" not found` } } }] });
      return pod.manifest;
    }
    await pod.start((code) => {
      if (!pods.has(name)) return;
      setStatus(pod, { phase: code === 0 ? "Succeeded" : "Failed", containerStatuses: [{ name: containerName, state: { terminated: { exitCode: code, reason: code === 0 ? "Completed" : "Error" } } }] });
    });
    setStatus(pod, { phase: "Running", podIP: "10.0.0.1", containerStatuses: [{ name: containerName, state: { running: { startedAt: new Date().toISOString() } } }] });
    return pod.manifest;
  }

  /** The claims a pod mounts, as directories and mountPaths; the names of those that are not there (or are being deleted). */
  function mountsOf(manifest: PodManifest): { mounts: PodMount[]; missing: string[] } {
    const mounts: PodMount[] = [];
    const missing: string[] = [];
    const volumes = new Map((manifest.spec?.volumes ?? []).map((v) => [v.name, v]));
    for (const mount of manifest.spec?.containers[0]?.volumeMounts ?? []) {
      const volume = volumes.get(mount.name);
      const claimName = volume?.persistentVolumeClaim?.claimName;
      if (claimName === undefined) {
        missing.push(`(volume ${mount.name})`);
        continue;
      }
      const claim = claims.get(claimName);
      if (claim === undefined || claim.manifest.metadata?.deletionTimestamp !== undefined) {
        missing.push(claimName);
        continue;
      }
      mounts.push({ source: claim.dir, target: mount.mountPath, readOnly: mount.readOnly === true || volume?.persistentVolumeClaim?.readOnly === true });
    }
    return { mounts, missing };
  }

  const claimInUse = (name: string): boolean => [...pods.values()].some((pod) => pod.manifest.spec?.volumes?.some((v) => v.persistentVolumeClaim?.claimName === name) === true);

  /** What pvc-protection does: a deleted claim goes once no pod uses it. */
  async function releaseClaims(): Promise<void> {
    for (const [name, claim] of claims) {
      if (claim.manifest.metadata?.deletionTimestamp === undefined || claimInUse(name)) continue;
      claims.delete(name);
      await rm(claim.dir, { recursive: true, force: true });
    }
  }

  const checkClaim = (claim: unknown, where: string): string[] => {
    const problems = claimViolations(claim);
    for (const problem of problems) violations.push(`${where}: ${problem}`);
    return problems;
  };

  const claimKind: ObjectKind = {
    resource: "persistentvolumeclaims",
    kind: "PersistentVolumeClaim",
    check: checkClaim,
    get: (name) => claims.get(name)?.manifest,
    list: () => [...claims.values()].map((c) => c.manifest),
    async create(manifest) {
      const claimName = manifest.metadata?.name ?? "";
      claimDirs += 1;
      const dir = path.join(options.dir, "claims", `${String(claimDirs)}-${claimName}`);
      // A fresh volume: an empty directory root owns, as a provisioner makes it.
      await mkdir(dir, { recursive: true, mode: 0o755 });
      version += 1;
      const requested = manifest as ClaimManifest;
      const claim: FakeClaim = {
        dir,
        manifest: {
          ...requested,
          metadata: { ...requested.metadata, namespace, ...newPodIdentity(), resourceVersion: String(version), finalizers: [PROTECTION] },
          status: { phase: "Bound", accessModes: requested.spec?.accessModes, capacity: { storage: requested.spec?.resources?.requests?.storage ?? "0" } },
        },
      };
      checkClaim(claim.manifest, "the fake's own claim");
      claims.set(claimName, claim);
      return claim.manifest;
    },
    async remove(name) {
      const claim = claims.get(name);
      if (claim === undefined) throw new Error(`no claim ${name}`);
      if (claim.manifest.metadata?.deletionTimestamp === undefined) {
        version += 1;
        claim.manifest = { ...claim.manifest, metadata: { ...claim.manifest.metadata, resourceVersion: String(version), deletionTimestamp: new Date().toISOString() } };
      }
      const answer = claim.manifest;
      await releaseClaims();
      return answer;
    },
  };

  function openWatch(url: URL, response: ServerResponse): void {
    const selector = parseSelector(url.searchParams.get("labelSelector"));
    if (selector === null) {
      sendStatus(response, 400, "BadRequest", "unable to parse the label selector");
      return;
    }
    const from = url.searchParams.get("resourceVersion") ?? "";
    response.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    // Headers out now, as an apiserver sends them: a client's watch is open from here even before any event.
    response.flushHeaders();
    const watcher: Watcher = { response, selector, bookmarks: url.searchParams.get("allowWatchBookmarks") === "true" };
    if (from === "" || from === "0") {
      for (const pod of pods.values()) if (matches(pod.manifest, selector)) response.write(`${JSON.stringify({ type: "ADDED", object: pod.manifest })}\n`);
    } else if (Number(from) < compactedBefore) {
      // What an apiserver does for a version its cache no longer holds: a 200 with one ERROR event, then the end.
      response.end(`${JSON.stringify({ type: "ERROR", object: { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message: `too old resource version: ${from} (${String(compactedBefore)})`, reason: "Expired", code: 410 } })}\n`);
      return;
    } else {
      for (const event of history) if (event.version > Number(from) && matches(event.pod, selector)) response.write(`${JSON.stringify({ type: event.type, object: event.pod })}\n`);
    }
    watchers.add(watcher);
    response.on("close", () => watchers.delete(watcher));
  }

  server.on("upgrade", (request: IncomingMessage, socket, head: Buffer) => {
    const url = new URL(request.url ?? "/", "http://fake");
    const match = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/exec$/.exec(url.pathname);
    const pod = match?.[2] === undefined ? undefined : pods.get(match[2]);
    requests.push(`EXEC ${match?.[2] ?? url.pathname}`);
    const refuse = (status: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`);
    };
    if (!authorised(request)) {
      refuse("401 Unauthorized");
      return;
    }
    if (forbidden.has("create pods/exec")) {
      refuse("403 Forbidden");
      return;
    }
    if (match?.[1] !== namespace || pod === undefined) {
      refuse("404 Not Found");
      return;
    }
    const websocket = acceptWebSocket(request, socket, head, options.execProtocols ?? ["v5.channel.k8s.io", "v4.channel.k8s.io"]);
    if (websocket !== null) serveExec(pod, url.searchParams, websocket);
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `https://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  const kubeconfig = path.join(options.dir, "kubeconfig.json");
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "fake", cluster: { server: url, "certificate-authority-data": tls.cert.toString("base64") } }],
      users: [{ name: "fake", user: { token: TOKEN } }],
      contexts: [{ name: "fake", context: { cluster: "fake", user: "fake", namespace } }],
      "current-context": "fake",
    }),
  );

  return {
    url,
    namespace,
    kubeconfig,
    context: "fake",
    pods,
    claims,
    violations,
    requests,
    closeWatches() {
      for (const watcher of watchers) watcher.response.end();
      watchers.clear();
    },
    compact() {
      compactedBefore = version;
      history.length = 0;
    },
    bookmark() {
      for (const watcher of watchers) {
        if (watcher.bookmarks) watcher.response.write(`${JSON.stringify({ type: "BOOKMARK", object: { kind: "Pod", apiVersion: "v1", metadata: { resourceVersion: String(version) } } })}\n`);
      }
    },
    forbid(verb, resource) {
      forbidden.add(`${verb} ${resource}`);
    },
    holdWatches() {
      held = [];
      return () => {
        const waiting = held ?? [];
        held = null;
        for (const open of waiting) open();
      };
    },
    openWatches: () => watchers.size,
    async stop() {
      for (const pod of pods.values()) pod.stop();
      pods.clear();
      for (const watcher of watchers) watcher.response.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => {
        resolve();
      }));
    },
  };
}

/** A key and a certificate for 127.0.0.1, valid for a day: the cluster's own CA, as far as the kubeconfig knows. */
async function selfSignedCertificate(dir: string): Promise<{ key: Buffer; cert: Buffer }> {
  const key = path.join(dir, "server.key");
  const cert = path.join(dir, "server.crt");
  await promisify(execFile)("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=fake-kube", "-addext", "subjectAltName=IP:127.0.0.1"]);
  return { key: await readFile(key), cert: await readFile(cert) };
}

/** `k=v,k2==v2` as a map; null for anything else (set-based selectors cspace never sends). */
export function parseSelector(text: string | null): Record<string, string> | null {
  const selector: Record<string, string> = {};
  if (text === null || text === "") return selector;
  for (const term of text.split(",")) {
    const found = /^([^=!]+)==?([^=]*)$/.exec(term.trim());
    if (found?.[1] === undefined || found[2] === undefined) return null;
    selector[found[1]] = found[2];
  }
  return selector;
}

function matches(object: PodManifest | ClaimManifest, selector: Readonly<Record<string, string>>): boolean {
  const labels = object.metadata?.labels ?? {};
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    request.on("error", reject);
  });
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}

function sendStatus(response: ServerResponse, code: number, reason: string, message: string): void {
  sendJson(response, code, { kind: "Status", apiVersion: "v1", metadata: {}, status: "Failure", message, reason, code });
}

function sendForbidden(response: ServerResponse, verb: string, resource: string, namespace: string): void {
  const [group, sub] = resource.split("/");
  const what = sub === undefined ? `resource "${group ?? ""}"` : `resource "${group ?? ""}/${sub}"`;
  sendStatus(response, 403, "Forbidden", `${resource} is forbidden: User "system:serviceaccount:${namespace}:cspace" cannot ${verb} ${what} in API group "" in the namespace "${namespace}"`);
}
