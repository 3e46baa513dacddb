import os from "node:os";
import path from "node:path";
import { UserError } from "../../../core/errors.ts";

/** A host's `ssh` options in `.cspace.json` (`workers.hosts[].ssh`). */
export interface SshHostOptions {
  /** The private key to log in with (`~` is the home directory); without it, the agent at SSH_AUTH_SOCK. */
  readonly identityFile?: string | undefined;
  /** Where the host's key is checked; default ~/.ssh/known_hosts. */
  readonly knownHosts?: string | undefined;
  /** The engine's Unix socket on the remote host; default /var/run/docker.sock. */
  readonly socket?: string | undefined;
}

/** Everything needed to reach one remote engine over SSH, with paths resolved. */
export interface SshTarget {
  /** The host's name in the config (for messages): "big". */
  readonly name: string;
  /** As the user wrote it: ssh://ci@build-1.internal:22. */
  readonly url: string;
  readonly user: string;
  readonly host: string;
  readonly port: number;
  readonly identityFile: string | undefined;
  readonly knownHosts: string;
  readonly remoteSocket: string;
  /** The agent's socket, used when there is no identity file. */
  readonly agentSocket: string | undefined;
}

const USAGE = "expected ssh://user@host or ssh://user@host:port";

/**
 * Reads `ssh://[user@]host[:port]` (an IPv6 host in brackets) and the host's
 * ssh options. The user defaults to the local one and the port to 22, as
 * with `ssh`; `~` in paths is `env.HOME`.
 */
export function sshTarget(name: string, endpoint: string, options: SshHostOptions, env: NodeJS.ProcessEnv): SshTarget {
  const url = URL.parse(endpoint.trim());
  const bad = (why: string): UserError =>
    new UserError(`host ${name}: "${endpoint}" is not an SSH endpoint (${why}): ${USAGE}`, { hint: `Fix workers.hosts[name=${name}].docker in .cspace.json.` });
  if (url === null || url.protocol !== "ssh:") throw bad("it must start with ssh://");
  if (url.hostname === "") throw bad("it names no host");
  if (url.password !== "") throw bad("a password in the address is not supported; use a key or an agent");
  if ((url.pathname !== "" && url.pathname !== "/") || url.search !== "" || url.hash !== "") throw bad("it has a path or query, which SSH endpoints do not take");
  const port = url.port === "" ? 22 : Number(url.port);
  const home = env.HOME ?? os.homedir();
  const expand = (file: string): string => (file === "~" ? home : file.startsWith("~/") ? path.join(home, file.slice(2)) : path.resolve(file));
  const socket = options.socket ?? "/var/run/docker.sock";
  if (!socket.startsWith("/")) {
    throw new UserError(`host ${name}: ssh.socket "${socket}" must be an absolute path on the remote host`, { hint: "The default is /var/run/docker.sock." });
  }
  return {
    name,
    url: endpoint.trim(),
    user: url.username === "" ? (env.USER ?? os.userInfo().username) : decodeURIComponent(url.username),
    host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    identityFile: options.identityFile === undefined ? undefined : expand(options.identityFile),
    knownHosts: expand(options.knownHosts ?? "~/.ssh/known_hosts"),
    remoteSocket: socket,
    agentSocket: env.SSH_AUTH_SOCK === undefined || env.SSH_AUTH_SOCK === "" ? undefined : env.SSH_AUTH_SOCK,
  };
}
