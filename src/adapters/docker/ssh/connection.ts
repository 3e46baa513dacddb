import { readFile } from "node:fs/promises";
import type { Client, ConnectConfig } from "ssh2";
import { ExternalError, InternalError, UserError } from "../../../core/errors.ts";
import { ChannelSocket } from "./channel-socket.ts";
import type { SshTarget } from "./endpoint.ts";
import { checkHostKey, fingerprint, keyType, knownHostsName } from "./known-hosts.ts";

export interface SshConnectionOptions {
  /** How often to ask a quiet server whether it is still there; default 10 s. */
  readonly keepaliveIntervalMs?: number;
  /** Unanswered keepalives before the connection counts as lost; default 3. */
  readonly keepaliveCountMax?: number;
  /** How long the TCP connect, key exchange and login may take; default 20 s. */
  readonly readyTimeoutMs?: number;
}

/**
 * One SSH connection to a remote host, opened on first use, that every
 * engine request rides on as its own channel: a forward of the engine's Unix
 * socket (`direct-streamlocal@openssh.com`). sshd sees a single login however
 * many requests run at once, so its start-up limits (MaxStartups) never turn
 * requests away, and each request costs a channel open rather than a TCP and
 * key exchange.
 *
 * When the connection drops (sshd killed, network gone, keepalives
 * unanswered), every channel still open fails with an ExternalError naming
 * the host, and the next request opens a new connection. ssh2 is loaded on
 * the first connect.
 */
export class SshConnection {
  readonly target: SshTarget;
  readonly #options: SshConnectionOptions;
  #client: Promise<Client> | undefined;
  /** The connected client, until it is lost. */
  #live: Client | undefined;
  readonly #channels = new Set<ChannelSocket>();
  #closed = false;
  #opened = 0;

  constructor(target: SshTarget, options: SshConnectionOptions = {}) {
    this.target = target;
    this.#options = options;
  }

  /** Connections opened so far (a reconnect counts again). */
  get connectionsOpened(): number {
    return this.#opened;
  }

  /** Reads the identity file (or finds the agent) now, so a configuration error is the user's, before any request. */
  async checkCredentials(): Promise<void> {
    await authOf(this.target);
  }

  /** A new channel to the engine's socket on the remote host, connecting first when there is no live connection. */
  async openEngineChannel(): Promise<ChannelSocket> {
    const client = await this.#connect();
    const { name, remoteSocket } = this.target;
    return new Promise<ChannelSocket>((resolve, reject) => {
      client.openssh_forwardOutStreamLocal(remoteSocket, (error, channel) => {
        if (error !== undefined) {
          // Closing: the connection went away between connect and this channel; its close handler said why.
          reject(
            this.#client === undefined
              ? this.#lost(error.message)
              : new ExternalError(`host ${name} (${this.target.url}): sshd would not forward the Docker engine's socket ${remoteSocket}: ${error.message}`, {
                  cause: error,
                  hint: `Check that ${remoteSocket} is the engine's socket there (ssh.socket in .cspace.json), that ${this.target.user} may use it, and that sshd allows it (AllowStreamLocalForwarding yes).`,
                }),
          );
          return;
        }
        const socket = new ChannelSocket(channel);
        this.#channels.add(socket);
        socket.once("close", () => this.#channels.delete(socket));
        resolve(socket);
      });
    });
  }

  /** Ends the connection and every channel on it; later requests fail. */
  async close(): Promise<void> {
    this.#closed = true;
    const connecting = this.#client;
    this.#client = undefined;
    for (const channel of this.#channels) channel.destroy();
    this.#channels.clear();
    const connected = await connecting?.catch(() => undefined);
    if (connected === undefined || this.#live !== connected) return;
    this.#live = undefined;
    await new Promise<void>((resolve) => {
      connected.once("close", resolve);
      connected.end();
    });
  }

  #connect(): Promise<Client> {
    if (this.#closed) return Promise.reject(new InternalError(`the SSH connection to ${this.target.name} was used after it was closed`));
    if (this.#client === undefined) {
      const connecting = this.#open();
      this.#client = connecting;
      // A failed attempt is not kept: the next request tries again.
      connecting.catch(() => {
        if (this.#client === connecting) this.#client = undefined;
      });
    }
    return this.#client;
  }

  async #open(): Promise<Client> {
    const { target } = this;
    const auth = await authOf(target);
    const knownHosts = await readFile(target.knownHosts, "utf8").catch((error: unknown) => {
      if (isMissing(error)) return "";
      throw new UserError(`host ${target.name}: cannot read known_hosts ${target.knownHosts}: ${String(error)}`, { cause: error });
    });
    const { Client: SshClient } = await import("ssh2");
    const client = new SshClient();
    let refusedKey: ExternalError | undefined;
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      username: target.user,
      ...auth,
      keepaliveInterval: this.#options.keepaliveIntervalMs ?? 10_000,
      keepaliveCountMax: this.#options.keepaliveCountMax ?? 3,
      readyTimeout: this.#options.readyTimeoutMs ?? 20_000,
      hostVerifier: (key: Buffer): boolean => {
        refusedKey = hostKeyRefusal(target, checkHostKey(knownHosts, target.host, target.port, key), key);
        return refusedKey === undefined;
      },
    };
    return new Promise<Client>((resolve, reject) => {
      let ready = false;
      let reason = "";
      client.on("error", (error: Error & { level?: string }) => {
        reason = error.message;
        if (ready) return;
        reject(refusedKey ?? connectFailure(target, error));
      });
      const gone = (): void => {
        if (!ready) {
          reject(refusedKey ?? new ExternalError(`cannot connect to ${target.name} (${target.url}): the connection closed before login${reason === "" ? "" : `: ${reason}`}`));
          return;
        }
        if (this.#live !== client) return;
        this.#live = undefined;
        this.#client = undefined;
        const lost = this.#lost(reason);
        // Failed before ssh2 ends them quietly (which reads as a complete answer): the requests on them fail, naming the host.
        for (const channel of this.#channels) channel.destroy(lost);
        this.#channels.clear();
      };
      client.once("end", gone);
      client.once("close", gone);
      client.once("ready", () => {
        // Every engine request is a few small SSH packets: with Nagle on, each waited on a 40 ms delayed ack
        // (bench/remote/README.md: relay p50 88 → 47 ms, fresh-host worker ready 4.3 → 2.9 s).
        client.setNoDelay(true);
        ready = true;
        this.#opened += 1;
        this.#live = client;
        resolve(client);
      });
      client.connect(config);
    });
  }

  #lost(reason: string): ExternalError {
    return new ExternalError(`lost the SSH connection to ${this.target.name} (${this.target.url})${reason === "" ? "" : `: ${reason}`}`, {
      hint: `Check that sshd runs on ${this.target.host} and the network reaches it; cspace connects again on its next request.`,
    });
  }
}

type Auth = Pick<ConnectConfig, "privateKey" | "agent">;

async function authOf(target: SshTarget): Promise<Auth> {
  if (target.identityFile !== undefined) {
    try {
      return { privateKey: await readFile(target.identityFile) };
    } catch (error) {
      throw new UserError(`host ${target.name}: cannot read the identity file ${target.identityFile}: ${String(error)}`, {
        cause: error,
        hint: `Fix ssh.identityFile for ${target.name} in .cspace.json, or leave it out to use your SSH agent.`,
      });
    }
  }
  if (target.agentSocket !== undefined) return { agent: target.agentSocket };
  throw new UserError(`host ${target.name}: no key to log in to ${target.url} with: no ssh.identityFile, and no SSH agent (SSH_AUTH_SOCK is unset)`, {
    hint: `Set ssh.identityFile for ${target.name} in .cspace.json, or start an agent and ssh-add your key.`,
  });
}

/** Why the host's key is refused, or undefined when known_hosts has it. Never accepts an unknown key. */
function hostKeyRefusal(target: SshTarget, verdict: ReturnType<typeof checkHostKey>, key: Buffer): ExternalError | undefined {
  const named = knownHostsName(target.host, target.port);
  const shown = `${keyType(key)} key ${fingerprint(key)}`;
  const scan = `ssh-keyscan -p ${String(target.port)} ${target.host} >> ${target.knownHosts}`;
  switch (verdict.kind) {
    case "known":
      return undefined;
    // What to run is in the message itself: callers that wrap this error (DockerRuntime) keep its message, not its hint.
    case "unknown":
      return new ExternalError(
        `host ${target.name} (${target.url}): ${named} is not in ${target.knownHosts}; it offered the ${shown}, which cspace will not trust unseen. Check that fingerprint with the host's administrator (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub there), then run: ${scan}`,
        { hint: `After checking the fingerprint: ${scan}` },
      );
    case "changed":
      return new ExternalError(
        `host ${target.name} (${target.url}): ${named} offered the ${shown}, which is not the ${verdict.knownTypes.join(" or ")} key ${target.knownHosts} has for it: the host's key changed, or someone is in the middle. Do not go on until you know why; if the host was really re-keyed, run ssh-keygen -R '${named}' -f ${target.knownHosts}, check the new fingerprint, then run: ${scan}`,
        { hint: `Only once you know the host was re-keyed: ssh-keygen -R '${named}' -f ${target.knownHosts}; ${scan}` },
      );
    case "revoked":
      return new ExternalError(`host ${target.name} (${target.url}): ${named} offered the ${shown}, which ${target.knownHosts} marks @revoked`, {
        hint: "The host must be given a new key; ask its administrator.",
      });
  }
}

function connectFailure(target: SshTarget, error: Error & { level?: string }): ExternalError | UserError {
  if (error.level === "client-authentication") {
    const how = target.identityFile === undefined ? `the keys of the agent at ${target.agentSocket ?? "SSH_AUTH_SOCK"}` : `the key ${target.identityFile}`;
    return new ExternalError(`${target.url} (host ${target.name}) refused the login as ${target.user} with ${how}`, {
      cause: error,
      hint: `Add the public key to ~${target.user}/.ssh/authorized_keys on ${target.host}, or set ssh.identityFile for ${target.name} in .cspace.json.`,
    });
  }
  if (/passphrase/i.test(error.message)) {
    return new UserError(`host ${target.name}: the identity file ${String(target.identityFile)} is encrypted: ${error.message}`, {
      cause: error,
      hint: "cspace does not ask for passphrases: load the key into your SSH agent (ssh-add) and leave ssh.identityFile out.",
    });
  }
  return new ExternalError(`cannot connect to ${target.name} (${target.url}): ${error.message}`, {
    cause: error,
    hint: `Check that ${target.host} is up and sshd listens on port ${String(target.port)}; \`cspace doctor\` checks every host.`,
  });
}

function isMissing(error: unknown): boolean {
  return typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT";
}
