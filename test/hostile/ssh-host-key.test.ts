import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSshRuntime, type SshRuntime } from "../../src/adapters/docker/ssh/runtime.ts";
import { ExternalError } from "../../src/core/errors.ts";
import { startRemoteEngine, type RemoteEngine } from "../support/remote-engines.ts";

/**
 * A man in the middle of the SSH connection to a remote engine: whoever
 * answers at the host's address with another key would get every request
 * cspace makes as root on that engine (create a container with the host's
 * root mounted, read every worker's files). cspace checks the host's key
 * against known_hosts before it logs in, and never trusts a key it has not
 * seen: an impostor or an unknown host is refused before any login, with the
 * key's fingerprint and what to run once it has been checked.
 */

const run = promisify(execFile);
let engine: RemoteEngine;
let dir: string;
const opened: SshRuntime[] = [];

beforeAll(async () => {
  engine = await startRemoteEngine("host-key", { loadBaseImage: false });
  dir = await mkdtemp(path.join(os.tmpdir(), "cspace-host-key-"));
}, 300_000);

afterAll(async () => {
  await Promise.all(opened.splice(0).map((ssh) => ssh.close()));
  await engine.stop();
  await rm(dir, { recursive: true, force: true });
}, 300_000);

async function remote(knownHosts: string): Promise<SshRuntime> {
  const ssh = await openSshRuntime({
    name: "big",
    endpoint: engine.endpoint,
    ssh: { identityFile: engine.identityFile, knownHosts, socket: engine.socketPath },
    env: { HOME: dir },
  });
  opened.push(ssh);
  return ssh;
}

/** The ExternalError a promise rejects with; anything else (going through above all) fails the test. */
async function refusalOf(work: Promise<unknown>): Promise<ExternalError> {
  try {
    await work;
  } catch (error) {
    if (error instanceof ExternalError) return error;
    throw new Error(`expected an ExternalError, got ${String(error)}`, { cause: error });
  }
  throw new Error("expected a refusal, but the request went through");
}

function fingerprintOf(knownHostsLine: string): string {
  const blob = Buffer.from(knownHostsLine.trim().split(" ")[2] ?? "", "base64");
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

describe("the remote engine's SSH host key", () => {
  it("is accepted from a hashed known_hosts line, as ssh-keygen -H writes it", async () => {
    const hashed = path.join(dir, "hashed_known_hosts");
    await writeFile(hashed, await readFile(engine.knownHostsFile));
    await run("ssh-keygen", ["-H", "-f", hashed]);
    expect(await readFile(hashed, "utf8")).toMatch(/^\|1\|/);
    const { runtime } = await remote(hashed);
    await runtime.ping();
  });

  it("refuses an unknown host before logging in, with the key's fingerprint and the command to trust it", async () => {
    const before = await engine.sshConnectionsAccepted();
    const real = await readFile(engine.knownHostsFile, "utf8");
    const elsewhere = path.join(dir, "other_hosts");
    await writeFile(elsewhere, real.replace(engine.address, "10.213.255.254"));
    for (const knownHosts of [elsewhere, path.join(dir, "missing_known_hosts")]) {
      const { runtime } = await remote(knownHosts);
      const refused = await refusalOf(runtime.ping());
      expect(refused.message).toContain(`host big (${engine.endpoint}): ${engine.address} is not in ${knownHosts}`);
      expect(refused.message).toContain(fingerprintOf(real));
      expect(refused.message).toContain(`then run: ssh-keyscan -p 22 ${engine.address} >> ${knownHosts}`);
    }
    expect(await engine.sshConnectionsAccepted()).toBe(before);
  });

  it("refuses an impostor at the host's address, which would have let cspace in, before any login", async () => {
    await engine.killSshd();
    await engine.startImpostorSshd();
    try {
      const before = await engine.sshConnectionsAccepted();
      const { runtime } = await remote(engine.knownHostsFile);
      const refused = await refusalOf(runtime.list({}));
      expect(refused.message).toContain(`host big (${engine.endpoint}): ${engine.address} offered the ssh-ed25519 key SHA256:`);
      expect(refused.message).toContain(`which is not the ssh-ed25519 key ${engine.knownHostsFile} has for it`);
      expect(refused.message).not.toContain(fingerprintOf(await readFile(engine.knownHostsFile, "utf8")));
      expect(refused.message).toContain(`run ssh-keygen -R '${engine.address}' -f ${engine.knownHostsFile}, check the new fingerprint, then run: ssh-keyscan -p 22 ${engine.address}`);
      // Refused before it logged in: the impostor never saw cspace's key, nor any request.
      expect(await engine.sshConnectionsAccepted()).toBe(before);
    } finally {
      await engine.killSshd();
      await engine.startSshd();
    }
    // The real host, back at its address, is let in as before.
    const { runtime } = await remote(engine.knownHostsFile);
    await runtime.ping();
  });
});
