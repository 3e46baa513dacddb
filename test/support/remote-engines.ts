import { execFile, spawn } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { closeSync, existsSync, openSync, readFileSync } from "node:fs";
import { mkdir, readFile, readdir, rename, rm, writeFile, chmod } from "node:fs/promises";
import { request } from "node:http";
import { connect } from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { BASE_IMAGE } from "./docker.ts";

/**
 * "Remote" Docker hosts on this machine, for tests of workers beyond one
 * machine: each is a network namespace of the test's own making, joined to
 * this one by a veth pair on a /30 of 10.213.0.0/16 with its bandwidth limited
 * by `tc`, running a second dockerd (own data root, exec root, socket) and an
 * sshd that lets root in with a generated key and forwards Unix sockets.
 *
 * Everything one engine owns lives under /tmp/cspace-t/<namespace>/, and the
 * pid of the process that made it in /tmp/cspace-t/<namespace>.owner:
 * `stop()` removes it all, and the first start in a process sweeps what a
 * dead process left behind (a test file that crashed) without touching
 * engines a live process (a parallel test file) owns.
 * Needs root, ip, tc, nsenter, dockerd, sshd and ssh-keygen
 * (scripts/prepare-machine.sh installs openssh-server).
 */

export interface RemoteEngine {
  readonly name: string;
  /** As a user writes it in `.cspace.json`: ssh://root@10.213.x.y:22. */
  readonly endpoint: string;
  /** The engine's own Unix socket on this machine (for a test's direct checks; production code goes over SSH). */
  readonly socketPath: string;
  /** The client key sshd accepts for root. */
  readonly identityFile: string;
  /** A known_hosts file with sshd's host key for `address`. */
  readonly knownHostsFile: string;
  /** sshd's address in the namespace. */
  readonly address: string;
  /** The network namespace (`ip netns`) the engine and sshd run in. */
  readonly namespace: string;
  /** SSH connections sshd accepted since the engine started (from sshd's log, which `-e` keeps). */
  sshConnectionsAccepted(): Promise<number>;
  /** Kills sshd and every connection it serves (as a crash or a reboot would); the engine runs on. */
  killSshd(): Promise<void>;
  /** Starts sshd again (after killSshd); resolves once it accepts connections. */
  startSshd(): Promise<void>;
  /**
   * Starts, in sshd's place (call killSshd first), an impostor at the same
   * address with a host key of its own, which lets in the same client key: a
   * man in the middle. Its logins count in sshConnectionsAccepted.
   */
  startImpostorSshd(): Promise<void>;
  /**
   * Takes the link to the namespace down (false) or up again (true): the host
   * goes silent without closing anything, as when a network fails, and only a
   * keepalive notices.
   */
  setLinkUp(up: boolean): Promise<void>;
  /** Removes the engine's containers, dockerd and its containerd, sshd, the namespace, the veth and the files. */
  stop(): Promise<void>;
}

export interface RemoteEngineOptions {
  /** Bandwidth each way on the link, in Mbit/s (tc tbf). Default 200. */
  readonly rateMbit?: number;
  /** Load cspace-base:bookworm into the engine (default true; about 10 s). */
  readonly loadBaseImage?: boolean;
}

const ROOT = "/tmp/cspace-t";
const PREFIX = "cspace-t-";
const READY_TIMEOUT_MS = 90_000;
const run = promisify(execFile);

let swept: Promise<void> | undefined;

export async function startRemoteEngine(name: string, options: RemoteEngineOptions = {}): Promise<RemoteEngine> {
  if (!/^[a-z0-9-]{1,16}$/.test(name)) throw new Error(`remote engine name "${name}": use 1-16 of a-z, 0-9 and -`);
  await mkdir(ROOT, { recursive: true });
  swept ??= sweepLeftovers();
  await swept;
  const id = randomBytes(3).toString("hex");
  const layout = layoutOf(`${PREFIX}${name}-${id}`, id);
  // The owner first, whole (written aside, then renamed): a sweep in another process must never take an engine being built.
  const partial = `${ownerFile(layout.namespace)}.${String(process.pid)}`;
  await writeFile(partial, String(process.pid));
  await rename(partial, ownerFile(layout.namespace));
  await mkdir(layout.dir, { recursive: true });
  try {
    const address = await makeNetwork(layout, options.rateMbit ?? 200);
    await startDockerd(layout);
    const keys = await makeKeys(layout, address);
    const engine = new Engine(name, layout, address, keys);
    await engine.startSshd();
    if (options.loadBaseImage ?? true) await loadBaseImage(layout.socket);
    return engine;
  } catch (error) {
    await teardown(layout).catch(() => undefined);
    throw error;
  }
}

interface Layout {
  readonly namespace: string;
  readonly dir: string;
  /** The veth pair: this machine's end, and the namespace's. */
  readonly hostVeth: string;
  readonly peerVeth: string;
  readonly socket: string;
}

/** Where the pid of the process that owns an engine is kept, beside (not in) its directory. */
function ownerFile(namespace: string): string {
  return path.join(ROOT, `${namespace}.owner`);
}

function layoutOf(namespace: string, id: string): Layout {
  const dir = path.join(ROOT, namespace);
  // Interface names are at most 15 bytes.
  return { namespace, dir, hostVeth: `cst-${id}h`, peerVeth: `cst-${id}r`, socket: path.join(dir, "docker.sock") };
}

interface Keys {
  readonly identityFile: string;
  readonly knownHostsFile: string;
  readonly sshdConfig: string;
}

class Engine implements RemoteEngine {
  readonly name: string;
  readonly endpoint: string;
  readonly socketPath: string;
  readonly identityFile: string;
  readonly knownHostsFile: string;
  readonly address: string;
  readonly namespace: string;
  readonly #layout: Layout;
  readonly #sshdConfig: string;
  #stopped: Promise<void> | undefined;

  constructor(name: string, layout: Layout, address: string, keys: Keys) {
    this.name = name;
    this.address = address;
    this.endpoint = `ssh://root@${address}:22`;
    this.socketPath = layout.socket;
    this.identityFile = keys.identityFile;
    this.knownHostsFile = keys.knownHostsFile;
    this.namespace = layout.namespace;
    this.#layout = layout;
    this.#sshdConfig = keys.sshdConfig;
  }

  async sshConnectionsAccepted(): Promise<number> {
    const log = await readFile(path.join(this.#layout.dir, "sshd.log"), "utf8").catch(() => "");
    return log.split("\n").filter((line) => line.startsWith("Accepted publickey for ")).length;
  }

  async killSshd(): Promise<void> {
    await killInNamespace(this.#layout.namespace, (comm) => comm === "sshd");
  }

  async startSshd(): Promise<void> {
    await this.#runSshd(this.#sshdConfig);
  }

  async startImpostorSshd(): Promise<void> {
    const { dir } = this.#layout;
    const key = path.join(dir, "impostor_host_key");
    if (!existsSync(key)) await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "cspace-t impostor", "-f", key]);
    const config = path.join(dir, "impostor_sshd_config");
    const real = await readFile(this.#sshdConfig, "utf8");
    await writeFile(config, real.replace(/^HostKey .*$/m, `HostKey ${key}`));
    await this.#runSshd(config);
  }

  async #runSshd(config: string): Promise<void> {
    const log = openSync(path.join(this.#layout.dir, "sshd.log"), "a");
    try {
      // -D: in the foreground, so it is ours to kill; -e: its log (each accepted connection) to stderr, kept in sshd.log.
      const child = spawn("nsenter", [`--net=/var/run/netns/${this.#layout.namespace}`, "/usr/sbin/sshd", "-D", "-e", "-f", config], {
        detached: true,
        stdio: ["ignore", log, log],
      });
      child.unref();
    } finally {
      closeSync(log);
    }
    await waitFor(`sshd on ${this.address}:22`, () => tcpAnswers(this.address, 22), () => readFile(path.join(this.#layout.dir, "sshd.log"), "utf8"));
  }

  async setLinkUp(up: boolean): Promise<void> {
    await ip("link", "set", this.#layout.hostVeth, up ? "up" : "down");
    if (up) await waitFor(`sshd on ${this.address}:22 after the link came up`, () => tcpAnswers(this.address, 22));
  }

  stop(): Promise<void> {
    this.#stopped ??= teardown(this.#layout);
    return this.#stopped;
  }
}

/** A free /30 in 10.213.0.0/16 (.1 here, .2 in the namespace), the veth pair, lo, and tbf both ways. */
async function makeNetwork(layout: Layout, rateMbit: number): Promise<string> {
  const { namespace: ns, hostVeth, peerVeth } = layout;
  await ip("netns", "add", ns);
  await ip("link", "add", hostVeth, "type", "veth", "peer", "name", peerVeth);
  await ip("link", "set", peerVeth, "netns", ns);
  let hostAddress = "";
  for (let attempt = 0; hostAddress === "" && attempt < 20; attempt++) {
    const base = `10.213.${randomInt(256)}.${randomInt(64) * 4}`;
    const [a, b, c, d] = base.split(".").map(Number) as [number, number, number, number];
    const candidate = `${a}.${b}.${c}.${d + 1}`;
    // Adding the same /30 twice on this machine fails: a parallel start that picked it too tries another.
    try {
      await ip("addr", "add", `${candidate}/30`, "dev", hostVeth);
      const routes = (await run("ip", ["-4", "route", "show", `${a}.${b}.${c}.${d}/30`])).stdout.trim().split("\n");
      if (routes.length > 1) {
        await ip("addr", "del", `${candidate}/30`, "dev", hostVeth);
        continue;
      }
      hostAddress = candidate;
    } catch {
      continue;
    }
  }
  if (hostAddress === "") throw new Error("no free /30 in 10.213.0.0/16 after 20 tries");
  const peerAddress = hostAddress.replace(/\d+$/, (last) => String(Number(last) + 1));
  await ip("link", "set", hostVeth, "up");
  await ip("-n", ns, "addr", "add", `${peerAddress}/30`, "dev", peerVeth);
  await ip("-n", ns, "link", "set", peerVeth, "up");
  await ip("-n", ns, "link", "set", "lo", "up");
  // A token bucket both ways: what leaves here for the namespace, and what leaves the namespace for here.
  const burst = `${String(Math.max(32, Math.ceil((rateMbit * 1_000_000) / 8 / 100 / 1024)))}kb`;
  const tbf = ["root", "tbf", "rate", `${String(rateMbit)}mbit`, "burst", burst, "latency", "100ms"];
  await run("tc", ["qdisc", "add", "dev", hostVeth, ...tbf]);
  await run("tc", ["-n", ns, "qdisc", "add", "dev", peerVeth, ...tbf]);
  return peerAddress;
}

/**
 * A second dockerd, in the namespace's network only: `nsenter --net`, not
 * `ip netns exec`, which remounts /sys and leaves dockerd without its cgroups.
 * Its own config file, so a daemon.json of this machine's engine never applies.
 */
async function startDockerd(layout: Layout): Promise<void> {
  const { dir, namespace, socket } = layout;
  await writeFile(path.join(dir, "daemon.json"), "{}\n");
  const log = openSync(path.join(dir, "dockerd.log"), "a");
  try {
    const child = spawn(
      "nsenter",
      [
        `--net=/var/run/netns/${namespace}`,
        "dockerd",
        "--config-file", path.join(dir, "daemon.json"),
        "--data-root", path.join(dir, "data"),
        "--exec-root", path.join(dir, "x"),
        "--pidfile", path.join(dir, "dockerd.pid"),
        "-H", `unix://${socket}`,
      ],
      { detached: true, stdio: ["ignore", log, log] },
    );
    child.unref();
  } finally {
    closeSync(log);
  }
  await waitFor(`dockerd in ${namespace}`, () => enginePings(socket), () => readFile(path.join(dir, "dockerd.log"), "utf8"));
}

async function makeKeys(layout: Layout, address: string): Promise<Keys> {
  const { dir } = layout;
  const hostKey = path.join(dir, "ssh_host_ed25519_key");
  const identityFile = path.join(dir, "id_ed25519");
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `cspace-t host ${layout.namespace}`, "-f", hostKey]);
  await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", `cspace-t client ${layout.namespace}`, "-f", identityFile]);
  const authorized = path.join(dir, "authorized_keys");
  await writeFile(authorized, await readFile(`${identityFile}.pub`));
  await chmod(authorized, 0o600);
  const [type, key] = (await readFile(`${hostKey}.pub`, "utf8")).split(" ");
  const knownHostsFile = path.join(dir, "known_hosts");
  await writeFile(knownHostsFile, `${address} ${type ?? ""} ${key ?? ""}\n`);
  // sshd's privilege separation directory; Debian's service would make it.
  await mkdir("/run/sshd", { recursive: true, mode: 0o755 });
  const sshdConfig = path.join(dir, "sshd_config");
  // MaxStartups and MaxSessions stay at their defaults: the limits that make a connection per request fail are real here.
  await writeFile(
    sshdConfig,
    [
      `ListenAddress ${address}:22`,
      `HostKey ${hostKey}`,
      `AuthorizedKeysFile ${authorized}`,
      "PermitRootLogin prohibit-password",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "UsePAM no",
      "StrictModes no",
      "AllowStreamLocalForwarding yes",
      "PidFile none",
      "",
    ].join("\n"),
  );
  return { identityFile, knownHostsFile, sshdConfig };
}

/** The base image, saved once per machine and image id (atomically, so parallel starts share it), loaded into the engine. */
async function loadBaseImage(socket: string): Promise<void> {
  const { stdout } = await run("docker", ["image", "inspect", "--format", "{{.Id}}", BASE_IMAGE]);
  const imageId = stdout.trim().replace(/^sha256:/, "");
  const tar = path.join(ROOT, `base-${imageId.slice(0, 16)}.tar`);
  if (!existsSync(tar)) {
    const partial = `${tar}.${String(process.pid)}.${randomBytes(3).toString("hex")}`;
    await run("docker", ["save", "-o", partial, BASE_IMAGE], { maxBuffer: 1 << 20 });
    await rename(partial, tar);
  }
  await run("docker", ["load", "-q", "-i", tar], { env: { ...process.env, DOCKER_HOST: `unix://${socket}` } });
}

/**
 * Removes what a dead process left: engines whose owner is gone, and
 * namespaces named cspace-t-* without an owner at all. Engines of live
 * processes (parallel test files) stay.
 */
async function sweepLeftovers(): Promise<void> {
  const dirs = (await readdir(ROOT))
    .filter((entry) => entry.startsWith(PREFIX) && !entry.includes(".owner."))
    .map((entry) => entry.replace(/\.owner$/, ""));
  const namespaces = (await run("ip", ["netns", "list"])).stdout
    .split("\n")
    .map((line) => line.split(" ")[0] ?? "")
    .filter((ns) => ns.startsWith(PREFIX));
  for (const namespace of new Set([...dirs, ...namespaces])) {
    const owner = Number(await readFile(ownerFile(namespace), "utf8").catch(() => "0"));
    if (owner > 0 && alive(owner)) continue;
    const id = namespace.slice(namespace.lastIndexOf("-") + 1);
    await teardown(layoutOf(namespace, id)).catch(() => undefined);
  }
}

async function teardown(layout: Layout): Promise<void> {
  const { dir, namespace, socket, hostVeth } = layout;
  if (await enginePings(socket)) {
    const env = { ...process.env, DOCKER_HOST: `unix://${socket}` };
    const ids = (await run("docker", ["ps", "-aq"], { env })).stdout.split("\n").filter((line) => line !== "");
    if (ids.length > 0) await run("docker", ["rm", "-f", "-v", ...ids], { env }).catch(() => undefined);
  }
  // dockerd stops its containerd as it exits; whatever is left in the namespace (sshd, a shim) is killed after.
  const dockerd = Number(await readFile(path.join(dir, "dockerd.pid"), "utf8").catch(() => "0"));
  if (dockerd > 0 && alive(dockerd)) {
    process.kill(dockerd, "SIGTERM");
    await waitFor(`dockerd (pid ${String(dockerd)}) to exit`, () => Promise.resolve(!alive(dockerd)), undefined, 60_000).catch(() => {
      if (alive(dockerd)) process.kill(dockerd, "SIGKILL");
    });
  }
  if (existsSync(`/var/run/netns/${namespace}`)) {
    await killInNamespace(namespace, () => true);
    await ip("netns", "del", namespace).catch(() => undefined);
  }
  // Deleting one end of a veth pair deletes both; with the namespace gone it is already gone.
  await ip("link", "del", hostVeth).catch(() => undefined);
  await unmountUnder(dir);
  await rm(dir, { recursive: true, force: true });
  await rm(ownerFile(namespace), { force: true });
}

/** SIGKILLs the namespace's processes whose command name passes `which`, and waits until they are gone. */
async function killInNamespace(namespace: string, which: (comm: string) => boolean): Promise<void> {
  const pids = (await run("ip", ["netns", "pids", namespace]).catch(() => ({ stdout: "" }))).stdout
    .split("\n")
    .map(Number)
    .filter((pid) => pid > 0);
  const chosen: number[] = [];
  for (const pid of pids) {
    const comm = (await readFile(`/proc/${String(pid)}/comm`, "utf8").catch(() => "")).trim();
    if (comm !== "" && which(comm)) chosen.push(pid);
  }
  for (const pid of chosen) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  await waitFor(`processes ${chosen.join(", ")} in ${namespace} to die`, () => Promise.resolve(chosen.every((pid) => !alive(pid))), undefined, 30_000);
}

/** Mounts dockerd left under `dir` (overlays, netns bind mounts), deepest first. */
async function unmountUnder(dir: string): Promise<void> {
  const mounts = (await readFile("/proc/self/mountinfo", "utf8"))
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((point) => point === dir || point.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const point of mounts) await run("umount", ["-l", point]).catch(() => undefined);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie (exited, not yet reaped by its parent) counts as gone.
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, "utf8");
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

async function ip(...args: string[]): Promise<void> {
  await run("ip", args);
}

function enginePings(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ socketPath, path: "/_ping", agent: false, timeout: 5_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => {
      resolve(false);
    });
    req.end();
  });
}

function tcpAnswers(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: 5_000 });
    socket.once("data", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      resolve(false);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/** Polls `ready` until it holds; an error with the daemon's log tail when it never does. */
async function waitFor(what: string, ready: () => Promise<boolean>, log?: () => Promise<string>, timeoutMs = READY_TIMEOUT_MS): Promise<void> {
  const started = Date.now();
  while (!(await ready())) {
    if (Date.now() - started > timeoutMs) {
      const tail = log === undefined ? "" : (await log().catch(() => "")).split("\n").slice(-15).join("\n");
      throw new Error(`timed out waiting for ${what}${tail === "" ? "" : `; its log ends:\n${tail}`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
