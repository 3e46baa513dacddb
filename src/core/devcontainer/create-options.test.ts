import { describe, expect, it } from "vitest";
import { UserError } from "../errors.ts";
import { instanceLabels } from "../instances/labels.ts";
import { builtImageRef, containerCreateSpec, devcontainerId, type ContainerCreateInput, type ContainerCreateSpec } from "./create-options.ts";
import { parseDevcontainer } from "./parse.ts";

const FILE = "/src/app/.devcontainer/devcontainer.json";
const spec = (config: object) =>
  parseDevcontainer(JSON.stringify(config), { file: FILE, context: { localEnv: {}, localWorkspaceFolder: "/src/app", devcontainerId: "id" } });

const labels = instanceLabels({ projectId: "app-1234abcd", instance: "issue-3", base: "main" });

const input = (config: object, over: Partial<ContainerCreateInput> = {}): ContainerCreateInput => ({
  spec: spec(config),
  imageRef: "cspace-image:abc",
  name: "cspace-app-1234abcd-issue-3",
  labels,
  workspaceHostPath: "/var/cspace/app/issue-3",
  instanceDirHostPath: "/run/user/1000/cspace/app-1234abcd/issue-3",
  limits: { memoryBytes: null, nanoCpus: null },
  env: {},
  ...over,
});

describe("containerCreateSpec", () => {
  it("makes a minimal image config into a long-lived container with the workspace and run dir mounted", () => {
    expect(containerCreateSpec(input({ image: "node:20" }))).toEqual({
      name: "cspace-app-1234abcd-issue-3",
      Image: "cspace-image:abc",
      Env: [],
      Labels: { "dev.cspace.project": "app-1234abcd", "dev.cspace.instance": "issue-3", "dev.cspace.base": "main" },
      WorkingDir: "/workspaces/app",
      Entrypoint: ["/bin/sh", "-c"],
      Cmd: ["trap 'exit 0' TERM INT; while sleep 3600 & wait $!; do :; done"],
      HostConfig: {
        Mounts: [
          { Type: "bind", Source: "/var/cspace/app/issue-3", Target: "/workspaces/app", ReadOnly: false },
          { Type: "bind", Source: "/run/user/1000/cspace/app-1234abcd/issue-3", Target: "/run/cspace", ReadOnly: false },
        ],
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
          limits: { memoryBytes: 2 * 1024 ** 3, nanoCpus: null },
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
      CapAdd: ["SYS_PTRACE"],
      Init: true,
    });
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
