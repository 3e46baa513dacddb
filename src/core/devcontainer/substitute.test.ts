import { describe, expect, it } from "vitest";
import { parseDevcontainer } from "./parse.ts";
import { envFromList, substituteContainerEnv, substituteContainerEnvString, substituteLocal, substituteLocalString, type LocalVariables } from "./substitute.ts";

const vars: LocalVariables = {
  localEnv: { HOME: "/home/dev", EMPTY: "", TOKEN: "t0k" },
  localWorkspaceFolder: "/src/my-app",
  containerWorkspaceFolder: "/workspaces/my-app",
  devcontainerId: "0123456789abcdefghijklmnopqrstuv0123456789abcdefghij",
};

describe("substituteLocalString", () => {
  it.each([
    ["${localEnv:HOME}/.ssh", "/home/dev/.ssh"],
    ["${env:HOME}", "/home/dev"],
    ["${localEnv:EMPTY:fallback}", ""],
    ["${localEnv:MISSING}", ""],
    ["${localEnv:MISSING:fallback}", "fallback"],
    ["${localEnv:MISSING:}", ""],
    ["${localEnv:MISSING:http://proxy:3128}", "http://proxy:3128"],
    ["${localEnv:toString}", ""],
    ["${localWorkspaceFolder}", "/src/my-app"],
    ["${localWorkspaceFolderBasename}", "my-app"],
    ["${containerWorkspaceFolder}/node_modules", "/workspaces/my-app/node_modules"],
    ["${containerWorkspaceFolderBasename}", "my-app"],
    ["vol-${devcontainerId}", "vol-0123456789abcdefghijklmnopqrstuv0123456789abcdefghij"],
    ["${containerEnv:PATH}", "${containerEnv:PATH}"],
    ["${unknownVariable}", "${unknownVariable}"],
    ["${localHomeFolder}", "${localHomeFolder}"],
    ["$HOME and ${}", "$HOME and ${}"],
    ["${localEnv:HOME}:${localEnv:TOKEN}", "/home/dev:t0k"],
    ["no variables", "no variables"],
  ])("%s → %s", (input, output) => {
    expect(substituteLocalString(input, vars)).toBe(output);
  });

  it("leaves containerWorkspaceFolder as written until it is known", () => {
    const early = { ...vars, containerWorkspaceFolder: undefined };
    expect(substituteLocalString("${containerWorkspaceFolder}|${containerWorkspaceFolderBasename}", early)).toBe(
      "${containerWorkspaceFolder}|${containerWorkspaceFolderBasename}",
    );
  });

  it.each(["${localEnv}", "${localEnv:}", "${env}"])("refuses %s, which names no variable", (input) => {
    expect(() => substituteLocalString(input, vars)).toThrow(/no environment variable name given/);
  });

  it("does not substitute twice (a value containing ${…} stays as the host gave it)", () => {
    const tricky = { ...vars, localEnv: { X: "${localEnv:TOKEN}" } };
    expect(substituteLocalString("${localEnv:X}", tricky)).toBe("${localEnv:TOKEN}");
  });
});

describe("substituteLocal", () => {
  it("substitutes strings at any depth and leaves keys, numbers and booleans alone", () => {
    const input = { "${localEnv:HOME}": ["${localEnv:HOME}", { deep: "${localWorkspaceFolderBasename}" }, 1, true, null] };
    expect(substituteLocal(input, vars)).toEqual({ "${localEnv:HOME}": ["/home/dev", { deep: "my-app" }, 1, true, null] });
  });
});

describe("the containerEnv pass", () => {
  const env = { PATH: "/usr/bin", HOME: "/home/node" };

  it.each([
    ["${containerEnv:PATH}:/extra", "/usr/bin:/extra"],
    ["${containerEnv:MISSING}", ""],
    ["${containerEnv:MISSING:/default}", "/default"],
    ["${localEnv:HOME}", "${localEnv:HOME}"],
  ])("%s → %s", (input, output) => {
    expect(substituteContainerEnvString(input, env)).toBe(output);
  });

  it("resolves remoteEnv and lifecycle commands of a spec", () => {
    const spec = parseDevcontainer(
      JSON.stringify({
        image: "node:20",
        remoteEnv: { PATH: "${containerEnv:PATH}:/home/node/.local/bin" },
        postCreateCommand: { a: "echo ${containerEnv:HOME}", b: ["ls", "${containerEnv:HOME}"] },
      }),
      { file: "/p/.devcontainer/devcontainer.json", context: { localEnv: {}, localWorkspaceFolder: "/p", devcontainerId: "id" } },
    );
    const resolved = substituteContainerEnv(spec, env);
    expect(resolved.remoteEnv).toEqual({ PATH: "/usr/bin:/home/node/.local/bin" });
    expect(resolved.postCreate).toEqual({ parallel: [{ name: "a", command: "echo /home/node" }, { name: "b", command: ["ls", "/home/node"] }] });
    expect(resolved.postStart).toBeNull();
  });

  it("reads Docker's KEY=VALUE environment list", () => {
    expect(envFromList(["PATH=/bin", "X=a=b", "EMPTY=", "junk"])).toEqual({ PATH: "/bin", X: "a=b", EMPTY: "" });
  });
});
