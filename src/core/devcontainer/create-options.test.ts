import { describe, expect, it } from "vitest";
import { UserError } from "../errors.ts";
import { instanceLabels } from "../instances/labels.ts";
import { builtImageRef, containerCreateSpec, devcontainerId, WORKER_CAPABILITIES, type ContainerCreateInput, type ContainerCreateSpec } from "./create-options.ts";
import { parseDevcontainer } from "./parse.ts";

const FILE = "/src/app/.devcontainer/devcontainer.json";
const spec = (config: object) =>
  parseDevcontainer(JSON.stringify(config), { file: FILE, context: { localEnv: {}, localWorkspaceFolder: "/src/app", devcontainerId: "id" } });

const labels = instanceLabels({ projectId: "app-1234abcd", instance: "issue-3", base: "main", host: "local" });

const input = (config: object, over: Partial<ContainerCreateInput> = {}): ContainerCreateInput => ({
  spec: spec(config),
  imageRef: "cspace-image:abc",
  name: "cspace-app-1234abcd-issue-3",
  labels,
  files: { kind: "host", workspace: "/var/cspace/app/issue-3", instanceDir: "/run/user/1000/cspace/app-1234abcd/issue-3" },
  limits: { memoryBytes: null, nanoCpus: null, pidsLimit: 4096 },
  env: {},
  ...over,
});

describe("containerCreateSpec", () => {
  it("makes a minimal image config into a long-lived container with the workspace and run dir mounted", () => {
    expect(containerCreateSpec(input({ image: "node:20" }))).toEqual({
      name: "cspace-app-1234abcd-issue-3",
      Image: "cspace-image:abc",
      Env: [],
      Labels: { "dev.cspace.project": "app-1234abcd", "dev.cspace.instance": "issue-3", "dev.cspace.base": "main", "dev.cspace.host": "local" },
      WorkingDir: "/workspaces/app",
      Entrypoint: ["/bin/sh", "-c"],
      Cmd: ["trap 'exit 0' TERM INT; while sleep 3600 & wait $!; do :; done"],
      HostConfig: {
        Mounts: [
          { Type: "bind", Source: "/var/cspace/app/issue-3", Target: "/workspaces/app", ReadOnly: false },
          { Type: "bind", Source: "/run/user/1000/cspace/app-1234abcd/issue-3", Target: "/run/cspace", ReadOnly: false },
        ],
        PidsLimit: 4096,
        CapDrop: ["ALL"],
        CapAdd: ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID"],
        SecurityOpt: ["no-new-privileges"],
      },
    } satisfies ContainerCreateSpec);
  });

  it("carries users, env, mounts and runArgs; config limits and env win", () => {
    const created = containerCreateSpec(
      input(
        {
          image: "node:20",
          containerUser: "node",
          workspaceFolder: "/code",
          containerEnv: { A: "container", B: "container", C: "container" },
          runArgs: ["--memory=1g", "--cpus=1", "--cap-add=SYS_PTRACE", "-e", "B=runarg", "--init"],
          mounts: ["source=cache,target=/cache,type=volume"],
        },
        {
          limits: { memoryBytes: 2 * 1024 ** 3, nanoCpus: null, pidsLimit: 512 },
          env: { C: "config" },
          extraMounts: [{ type: "bind", source: "/host/x", target: "/x", readOnly: true }],
        },
      ),
    );
    expect(created.User).toBe("node");
    expect(created.WorkingDir).toBe("/code");
    expect(created.Env).toEqual(["A=container", "B=runarg", "C=config"]);
    expect(created.HostConfig).toEqual({
      Mounts: [
        { Type: "bind", Source: "/var/cspace/app/issue-3", Target: "/code", ReadOnly: false },
        { Type: "bind", Source: "/run/user/1000/cspace/app-1234abcd/issue-3", Target: "/run/cspace", ReadOnly: false },
        { Type: "volume", Source: "cache", Target: "/cache", ReadOnly: false },
        { Type: "bind", Source: "/host/x", Target: "/x", ReadOnly: true },
      ],
      Memory: 2 * 1024 ** 3,
      NanoCpus: 1e9,
      PidsLimit: 512,
      CapDrop: ["ALL"],
      CapAdd: [...WORKER_CAPABILITIES, "SYS_PTRACE"],
      SecurityOpt: ["no-new-privileges"],
      Init: true,
    });
  });

  it("hardens every worker: Docker's default capabilities minus the ones an agent never needs, no-new-privileges, a pids limit", () => {
    const { HostConfig: host } = containerCreateSpec(input({ image: "node:20", containerUser: "root" }));
    expect(host.CapDrop).toEqual(["ALL"]);
    // Docker's default set, less what lets root in a worker sniff or spoof the network, make devices or set file capabilities.
    for (const dropped of ["NET_RAW", "MKNOD", "SETFCAP", "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "AUDIT_WRITE", "SYS_ADMIN"]) {
      expect(host.CapAdd).not.toContain(dropped);
    }
    expect(host.SecurityOpt).toEqual(["no-new-privileges"]);
    expect(host.PidsLimit).toBe(4096);
    expect(host).not.toHaveProperty("Privileged");
  });

  it("adds what capAdd and runArgs ask for to the reduced set, once each, however they are spelt", () => {
    const { HostConfig: host } = containerCreateSpec(input({ image: "x", capAdd: ["cap_sys_ptrace", "CHOWN"], runArgs: ["--cap-add", "SYS_PTRACE", "--cap-add=NET_RAW"] }));
    expect(host.CapAdd).toEqual([...WORKER_CAPABILITIES, "SYS_PTRACE", "NET_RAW"]);
  });

  it.each([
    [{ securityOpt: ["no-new-privileges=false"] }],
    [{ securityOpt: ["no-new-privileges:false", "seccomp=unconfined"] }],
    [{ runArgs: ["--security-opt", "no-new-privileges=false"] }],
    [{ securityOpt: ["no-new-privileges"], runArgs: ["--security-opt=no-new-privileges:false"] }],
  ])("lets a devcontainer that needs sudo turn no-new-privileges off (%j), and nothing else", (config) => {
    const { HostConfig: host } = containerCreateSpec(input({ image: "x", ...config }));
    expect(host.SecurityOpt).toEqual([]);
    expect(host.CapDrop).toEqual(["ALL"]);
    expect(host.CapAdd).toEqual([...WORKER_CAPABILITIES]);
  });

  it("uses the image's own command when overrideCommand is false", () => {
    const created = containerCreateSpec(input({ image: "node:20", overrideCommand: false }));
    expect(created).not.toHaveProperty("Entrypoint");
    expect(created).not.toHaveProperty("Cmd");
  });

  it.each(["/run/cspace", "/workspaces/app", "/workspaces/app/"])("refuses a mount over %s", (target) => {
    expect(() => containerCreateSpec(input({ image: "x", mounts: [`source=/h,target=${target},type=bind`] }))).toThrow(UserError);
  });

  it("refuses two mounts at one target", () => {
    expect(() => containerCreateSpec(input({ image: "x", mounts: ["source=a,target=/c", "source=b,target=/c"] }))).toThrow(
      `${FILE}: two mounts target "/c"`,
    );
  });
});

describe("devcontainerId", () => {
  it("is stable, 52 lowercase base-32 characters, and differs per project and instance", () => {
    const id = devcontainerId("/src/app", "issue-3");
    expect(id).toMatch(/^[0-9a-v]{52}$/);
    expect(devcontainerId("/src/app", "issue-3")).toBe(id);
    expect(devcontainerId("/src/app", "issue-4")).not.toBe(id);
    expect(devcontainerId("/src/other", "issue-3")).not.toBe(id);
  });
});

describe("builtImageRef", () => {
  it("tags by the inputs hash", () => {
    expect(builtImageRef("a".repeat(64))).toBe(`cspace-image:${"a".repeat(32)}`);
  });
  it("refuses something that is not a hash (a bug)", () => {
    expect(() => builtImageRef("../x")).toThrow(/not an image inputs hash/);
  });
});
