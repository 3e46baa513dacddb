import { describe, expect, it } from "vitest";
import { UserError } from "../../../core/errors.ts";
import { sshTarget } from "./endpoint.ts";

const env = { HOME: "/home/ada", USER: "ada", SSH_AUTH_SOCK: "/run/agent.sock" };

describe("sshTarget", () => {
  it("reads user, host and port, with ssh's defaults and the home directory for ~", () => {
    expect(sshTarget("big", "ssh://ci@build-1.internal:2222", { identityFile: "~/.ssh/id_ed25519" }, env)).toEqual({
      name: "big",
      url: "ssh://ci@build-1.internal:2222",
      user: "ci",
      host: "build-1.internal",
      port: 2222,
      identityFile: "/home/ada/.ssh/id_ed25519",
      knownHosts: "/home/ada/.ssh/known_hosts",
      remoteSocket: "/var/run/docker.sock",
      agentSocket: "/run/agent.sock",
    });
    const bare = sshTarget("big", "ssh://[fd00::7]", { knownHosts: "/etc/ssh/ssh_known_hosts", socket: "/run/user/1000/docker.sock" }, { HOME: "/home/ada", USER: "ada" });
    expect(bare).toMatchObject({ user: "ada", host: "fd00::7", port: 22, identityFile: undefined, agentSocket: undefined, knownHosts: "/etc/ssh/ssh_known_hosts", remoteSocket: "/run/user/1000/docker.sock" });
  });

  it("refuses what is no SSH endpoint, saying which host's setting to fix", () => {
    for (const bad of ["tcp://build-1:2375", "ssh://", "ssh://ci:secret@build-1", "ssh://ci@build-1/var/run/docker.sock", "build-1"]) {
      expect(() => sshTarget("big", bad, {}, env)).toThrow(UserError);
      expect(() => sshTarget("big", bad, {}, env)).toThrow(/host big: .* is not an SSH endpoint/);
    }
    expect(() => sshTarget("big", "ssh://ci@build-1", { socket: "docker.sock" }, env)).toThrow(/ssh.socket "docker.sock" must be an absolute path/);
  });
});
