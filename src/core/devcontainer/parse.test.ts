import { describe, expect, it } from "vitest";
import type { UserError } from "../errors.ts";
import { parseDevcontainer } from "./parse.ts";
import type { DevcontainerSpec, SubstitutionContext } from "./spec.ts";
import { userErrorFrom } from "../../../test/support/errors.ts";

const FILE = "/home/dev/app/.devcontainer/devcontainer.json";
const context: SubstitutionContext = {
  localEnv: { HOME: "/home/dev", USER: "dev", TZ: "UTC" },
  localWorkspaceFolder: "/home/dev/app",
  devcontainerId: "devid",
};

function parse(config: unknown, extra: Partial<SubstitutionContext> = {}): DevcontainerSpec {
  const text = typeof config === "string" ? config : JSON.stringify(config);
  return parseDevcontainer(text, { file: FILE, context: { ...context, ...extra } });
}

function failure(config: unknown): UserError {
  return userErrorFrom(() => parse(config));
}

describe("image sources", () => {
  it("takes an image as written", () => {
    expect(parse({ image: "node:20-bookworm" }).image).toEqual({ kind: "image", ref: "node:20-bookworm" });
  });

  it.each([
    [{ build: { dockerfile: "Dockerfile" } }, { dockerfile: "/home/dev/app/.devcontainer/Dockerfile", context: "/home/dev/app/.devcontainer", args: {}, target: null }],
    [
      { build: { dockerfile: "../docker/Dockerfile.dev", context: "..", args: { NODE: "20", USER: "${localEnv:USER}" }, target: "dev" } },
      { dockerfile: "/home/dev/app/docker/Dockerfile.dev", context: "/home/dev/app", args: { NODE: "20", USER: "dev" }, target: "dev" },
    ],
    [{ dockerFile: "Dockerfile", context: ".." }, { dockerfile: "/home/dev/app/.devcontainer/Dockerfile", context: "/home/dev/app", args: {}, target: null }],
    [{ build: { dockerfile: "/abs/Dockerfile" } }, { dockerfile: "/abs/Dockerfile", context: "/home/dev/app/.devcontainer", args: {}, target: null }],
  ])("resolves build %j against the devcontainer.json's folder", (config, expected) => {
    expect(parse(config).image).toEqual({ kind: "build", ...expected });
  });

  it("prefers build over image, and says so", () => {
    const spec = parse({ image: "x", build: { dockerfile: "Dockerfile", cacheFrom: "y" } });
    expect(spec.image.kind).toBe("build");
    expect(spec.warnings).toEqual([
      "image is ignored because build is given (cspace builds the Dockerfile)",
      "build.cacheFrom is ignored by cspace",
    ]);
  });

  it.each([
    [{}, "neither image nor build is given"],
    [{ name: "x" }, "neither image nor build is given"],
    [{ image: "" }, 'image: got "" — expected an image reference'],
    [{ image: "a b" }, 'image: got "a b"'],
    [{ image: 3 }, "image: got 3"],
    [{ build: "Dockerfile" }, 'build: got "Dockerfile" — expected an object'],
    [{ build: {} }, "build.dockerfile: missing — expected the Dockerfile's path"],
    [{ build: { dockerfile: 1 } }, "build.dockerfile: got 1"],
    [{ build: { dockerfile: "D", context: "" } }, 'build.context: got ""'],
    [{ build: { dockerfile: "D", args: { N: 20 } } }, 'build.args.N: got 20 — expected text (quote numbers, like "1")'],
    [{ build: { dockerfile: "D", args: ["A=1"] } }, "build.args: got a list"],
    [{ build: { dockerfile: "D", target: 2 } }, "build.target: got 2"],
  ])("refuses %j", (config, message) => {
    const error = failure(config);
    expect(error.message).toContain(FILE);
    expect(error.message).toContain(message);
  });
});

describe("refused keys", () => {
  it("refuses features, naming the key and the way out", () => {
    expect(failure({ image: "x", features: { "ghcr.io/devcontainers/features/node:1": {} } }).message).toBe(
      `${FILE}: features: features are not supported by cspace yet; install what you need in a Dockerfile (build.dockerfile)`,
    );
  });

  it("lets an empty features object pass silently", () => {
    expect(parse({ image: "x", features: {} }).warnings).toEqual([]);
  });

  it.each(["dockerComposeFile", "service", "runServices"])("refuses the compose key %s", (key) => {
    expect(failure({ [key]: "docker-compose.yml" }).message).toBe(`${FILE}: ${key}: compose-based configs are not supported yet`);
  });
});

describe("ignored keys", () => {
  it("is silent about editor metadata", () => {
    expect(parse({ $schema: "x", name: "n", customizations: { vscode: { extensions: ["a"] } }, image: "x" }).warnings).toEqual([]);
  });

  it.each([
    ["forwardPorts", [3000], "forwardPorts is ignored by cspace (cspace does not forward ports)"],
    ["initializeCommand", "rm -rf /", "initializeCommand is ignored by cspace (cspace runs nothing from devcontainer.json on the host)"],
    ["onCreateCommand", "x", "onCreateCommand is ignored by cspace (cspace runs postCreateCommand and postStartCommand only)"],
    ["workspaceMount", "x", "workspaceMount is ignored by cspace (cspace mounts each instance's own checkout at workspaceFolder)"],
    ["privileged", true, "privileged is ignored by cspace (a privileged worker would hand the agent the host; add the capabilities it needs with capAdd)"],
    [
      "securityOpt",
      ["seccomp=unconfined", "no-new-privileges=true"],
      `securityOpt "seccomp=unconfined" is ignored by cspace (workers keep Docker's default seccomp and AppArmor confinement; only no-new-privileges=false is applied)`,
    ],
    ["colour", "red", '"colour" is not a devcontainer.json key cspace knows; it is ignored'],
    ["\u001b[2J", 1, '"\\u001b[2J" is not a devcontainer.json key cspace knows; it is ignored'],
  ])("warns about %j", (key, value, warning) => {
    expect(parse({ image: "x", [key]: value }).warnings).toEqual([warning]);
  });
});

describe("environment and users", () => {
  it("reads containerEnv, remoteEnv (dropping nulls) and the users, with substitution", () => {
    const spec = parse({
      image: "x",
      containerEnv: { TZ: "${localEnv:TZ}", EMPTY: "" },
      remoteEnv: { PATH: "${containerEnv:PATH}:/x", UNSET: null },
      containerUser: "root",
      remoteUser: "${localEnv:NOPE:node}",
    });
    expect(spec.containerEnv).toEqual({ TZ: "UTC", EMPTY: "" });
    expect(spec.remoteEnv).toEqual({ PATH: "${containerEnv:PATH}:/x" });
    expect(spec.containerUser).toBe("root");
    expect(spec.remoteUser).toBe("node");
  });

  it("leaves users null when not given", () => {
    const spec = parse({ image: "x" });
    expect([spec.containerUser, spec.remoteUser]).toEqual([null, null]);
  });

  it.each([
    [{ image: "x", containerEnv: ["A=1"] }, "containerEnv: got a list"],
    [{ image: "x", containerEnv: { A: 1 } }, "containerEnv.A: got 1"],
    [{ image: "x", containerEnv: { A: null } }, "containerEnv.A: got null"],
    [{ image: "x", containerEnv: { "A=B": "1" } }, 'containerEnv["A=B"]'],
    [{ image: "x", remoteEnv: { A: true } }, "remoteEnv.A: got true"],
    [{ image: "x", remoteUser: "" }, 'remoteUser: got "" — expected non-empty text'],
    [{ image: "x", containerUser: 0 }, "containerUser: got 0"],
  ])("refuses %j", (config, message) => {
    expect(failure(config).message).toContain(message);
  });

  it("takes no keys from a __proto__ entry", () => {
    expect(failure('{"__proto__": {"image": "x"}}').message).toContain("neither image nor build is given");
    expect(parse('{"image": "x", "containerEnv": {"__proto__": {"A": "1"}}}').containerEnv).toEqual({});
  });
});

describe("workspaceFolder", () => {
  it.each([
    [{ image: "x" }, "/workspaces/app"],
    [{ image: "x", workspaceFolder: "/work/${localWorkspaceFolderBasename}" }, "/work/app"],
    [{ image: "x", workspaceFolder: "/a/../b/" }, "/b"],
  ])("%j → %s", (config, folder) => {
    expect(parse(config).workspaceFolder).toBe(folder);
  });

  it("uses the repository name when given", () => {
    const spec = parseDevcontainer('{"image": "x"}', { file: FILE, context: { ...context, localWorkspaceFolder: "/wt/issue-3" }, repoName: "app" });
    expect(spec.workspaceFolder).toBe("/workspaces/app");
  });

  it("names the project's folder in ${localWorkspaceFolderBasename}, as VS Code does, while ${localWorkspaceFolder} stays the checkout", () => {
    const config = {
      image: "x",
      workspaceFolder: "/workspaces/${localWorkspaceFolderBasename}",
      containerEnv: { NAME: "${localWorkspaceFolderBasename}", DIR: "${localWorkspaceFolder}" },
      mounts: ["source=${localWorkspaceFolder}/cache,target=/cache/${localWorkspaceFolderBasename},type=bind"],
    };
    const spec = parseDevcontainer(JSON.stringify(config), { file: FILE, context: { ...context, localWorkspaceFolder: "/data/ws/issue-3" }, repoName: "shop" });
    expect(spec.workspaceFolder).toBe("/workspaces/shop");
    expect(spec.containerEnv).toEqual({ NAME: "shop", DIR: "/data/ws/issue-3" });
    expect(spec.mounts[0]).toMatchObject({ source: "/data/ws/issue-3/cache", target: "/cache/shop" });
  });

  it("feeds ${containerWorkspaceFolder} from workspaceFolder, or from the context when given", () => {
    const config = { image: "x", workspaceFolder: "/src/w", containerEnv: { W: "${containerWorkspaceFolder}", B: "${containerWorkspaceFolderBasename}" } };
    expect(parse(config).containerEnv).toEqual({ W: "/src/w", B: "w" });
    expect(parse(config, { containerWorkspaceFolder: "/other/v" }).containerEnv).toEqual({ W: "/other/v", B: "v" });
  });

  it.each([["relative/path"], [""], [42], ["/"], ["/.."]])("refuses %j", (folder) => {
    expect(failure({ image: "x", workspaceFolder: folder }).message).toContain("workspaceFolder: got");
  });
});

describe("lifecycle commands", () => {
  it.each([
    ["npm install", { parallel: [{ name: "postCreateCommand", command: "npm install" }] }],
    [["npm", "ci"], { parallel: [{ name: "postCreateCommand", command: ["npm", "ci"] }] }],
    [
      { deps: "npm install", tools: ["pip", "install", "x"] },
      { parallel: [{ name: "deps", command: "npm install" }, { name: "tools", command: ["pip", "install", "x"] }] },
    ],
    ["", null],
    [[], null],
    [{}, null],
    [{ a: "", b: "echo b" }, { parallel: [{ name: "b", command: "echo b" }] }],
  ])("postCreateCommand %j", (value, step) => {
    expect(parse({ image: "x", postCreateCommand: value }).postCreate).toEqual(step);
  });

  it("reads postStartCommand with substitution", () => {
    expect(parse({ image: "x", postStartCommand: "echo ${localEnv:USER}" }).postStart).toEqual({
      parallel: [{ name: "postStartCommand", command: "echo dev" }],
    });
  });

  it.each([
    [7, "postCreateCommand: got 7 — expected a command line, a list of arguments, or an object of named commands"],
    [["npm", 1], "postCreateCommand: got a list"],
    [["", "x"], "expected the program to run as the first argument"],
    [{ a: 1 }, "postCreateCommand.a: got 1"],
    [{ a: ["x", false] }, "postCreateCommand.a: got a list"],
  ])("refuses %j", (value, message) => {
    expect(failure({ image: "x", postCreateCommand: value }).message).toContain(message);
  });
});

describe("top-level container options", () => {
  it("reads capAdd, init and overrideCommand", () => {
    const spec = parse({ image: "x", capAdd: ["SYS_PTRACE"], init: true, overrideCommand: false, runArgs: ["--cap-add=SYS_PTRACE", "--cap-add", "NET_ADMIN"] });
    expect(spec.runArgs.capAdd).toEqual(["SYS_PTRACE", "NET_ADMIN"]);
    expect(spec.runArgs.init).toBe(true);
    expect(spec.overrideCommand).toBe(false);
  });

  it("defaults to overriding the command, without init", () => {
    const spec = parse({ image: "x" });
    expect([spec.overrideCommand, spec.runArgs.init]).toEqual([true, false]);
  });

  it.each([
    [{ image: "x", init: "yes" }, 'init: got "yes" — expected true or false'],
    [{ image: "x", overrideCommand: 1 }, "overrideCommand: got 1"],
    [{ image: "x", capAdd: "SYS_PTRACE" }, "capAdd: got"],
    [{ image: "x", capAdd: ["SYS PTRACE"] }, "capAdd: got a list"],
    [{ image: "x", securityOpt: "no-new-privileges=false" }, "securityOpt: got"],
  ])("refuses %j", (config, message) => {
    expect(failure(config).message).toContain(message);
  });
});

describe("syntax and shape", () => {
  it("reads JSONC: comments, trailing commas, a byte-order mark", () => {
    const text = '\uFEFF// comment\n{\n  /* block */ "image": "x", // trailing\n  "containerEnv": {"A": "1",},\n}\n';
    expect(parse(text).containerEnv).toEqual({ A: "1" });
  });

  it("names line and column of a syntax error", () => {
    const error = failure('{\n  "image": "x"\n  "remoteUser": "node"\n}');
    expect(error.message).toMatch(new RegExp(`^${FILE}:3:3: syntax error \\(CommaExpected\\)`));
    expect(error.message).toContain('  3 |   "remoteUser": "node"');
  });

  it.each([["[]"], ['"x"'], ["null"], ["42"]])("refuses a top level of %s", (text) => {
    expect(failure(text).message).toContain("(top level): got");
  });

  it("refuses an empty file", () => {
    expect(failure("  \n").message).toContain("the file is empty");
  });

  it("survives hostile input with clear errors", () => {
    expect(() => parse({ image: "x".repeat(100_000) + " y" })).toThrow(/image: got "x{40}…" \(100002 characters\)/);
    expect(() => parse({ image: "x", remoteUser: "\u202Eevil" })).not.toThrow();
    expect(failure({ image: "x", mounts: ["type=bind,source=../../etc,target=/etc"] }).message).toContain("expected an absolute host path");
    expect(failure("{".repeat(5000)).message).toContain("syntax error");
    for (const depth of [100, 100_000]) {
      expect(failure(`{"image": "x", "containerEnv": ${"[".repeat(depth)}${"]".repeat(depth)}}`).message).toContain("nested more than 64 levels deep");
    }
  });
});

describe("a realistic config from the wild", () => {
  it("parses the devcontainers/templates javascript-node shape with warnings only for ignored keys", () => {
    const text = `// For format details, see https://aka.ms/devcontainer.json. For config options, see the
// README at: https://github.com/devcontainers/templates/tree/main/src/javascript-node
{
  "name": "Node.js",
  // Or use a Dockerfile or Docker Compose file. More info: https://containers.dev/guide/dockerfile
  "image": "mcr.microsoft.com/devcontainers/javascript-node:1-20-bookworm",

  // Features to add to the dev container. More info: https://containers.dev/features.
  // "features": {},

  // Use 'forwardPorts' to make a list of ports inside the container available locally.
  "forwardPorts": [3000],

  // Use 'postCreateCommand' to run commands after the container is created.
  "postCreateCommand": "npm install",

  // Configure tool-specific properties.
  "customizations": {
    "vscode": {
      "extensions": ["dbaeumer.vscode-eslint"],
      "settings": { "terminal.integrated.defaultProfile.linux": "bash" }
    }
  },

  "mounts": [
    "source=\${localEnv:HOME}/.npmrc,target=/home/node/.npmrc,type=bind,consistency=cached,readonly",
    "source=node_modules-\${devcontainerId},target=\${containerWorkspaceFolder}/node_modules,type=volume"
  ],
  "containerEnv": { "NODE_ENV": "development" },

  // Uncomment to connect as root instead. More info: https://aka.ms/dev-containers-non-root.
  "remoteUser": "node",
}
`;
    expect(parse(text)).toEqual({
      source: FILE,
      image: { kind: "image", ref: "mcr.microsoft.com/devcontainers/javascript-node:1-20-bookworm" },
      containerEnv: { NODE_ENV: "development" },
      remoteEnv: {},
      containerUser: null,
      remoteUser: "node",
      workspaceFolder: "/workspaces/app",
      mounts: [
        { type: "bind", source: "/home/dev/.npmrc", target: "/home/node/.npmrc", readOnly: true },
        { type: "volume", source: "node_modules-devid", target: "/workspaces/app/node_modules", readOnly: false },
      ],
      runArgs: { memoryBytes: null, nanoCpus: null, capAdd: [], noNewPrivileges: true, env: {}, init: false },
      overrideCommand: true,
      postCreate: { parallel: [{ name: "postCreateCommand", command: "npm install" }] },
      postStart: null,
      warnings: ["forwardPorts is ignored by cspace (cspace does not forward ports)"],
    } satisfies DevcontainerSpec);
  });
});
