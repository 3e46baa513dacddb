import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { BuildSource, SubstitutionContext } from "../../core/devcontainer/spec.ts";
import { UserError } from "../../core/errors.ts";
import { buildInputsHash, DEFAULT_DEVCONTAINER, loadDevcontainer, locateDevcontainer } from "./read-devcontainer.ts";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "cspace-devcontainer-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const context = (): SubstitutionContext => ({ localEnv: {}, localWorkspaceFolder: dir, devcontainerId: "id" });
const cspaceDirs = () => ({ dataDir: path.join(dir, "data"), runDir: path.join(dir, "run"), ownWorkspace: path.join(dir, "data", "workspaces", "issue-7") });

async function put(relative: string, content: string): Promise<string> {
  const file = path.join(dir, relative);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, content);
  return file;
}

const CONVENTIONAL = ".devcontainer/devcontainer.json";

describe("locating the devcontainer.json", () => {
  it("takes the project's own", async () => {
    const file = await put(CONVENTIONAL, '{"image": "x"}');
    expect(await locateDevcontainer(dir, CONVENTIONAL)).toEqual({ file, origin: "project" });
  });

  it("takes .devcontainer.json at the project root", async () => {
    const file = await put(".devcontainer.json", '{"image": "x"}');
    expect(await locateDevcontainer(dir, CONVENTIONAL)).toEqual({ file, origin: "project" });
  });

  it("falls back to cspace's own, which exists in the package", async () => {
    expect(await locateDevcontainer(dir, CONVENTIONAL)).toEqual({ file: DEFAULT_DEVCONTAINER, origin: "cspace" });
    expect(DEFAULT_DEVCONTAINER).toBe(path.resolve(import.meta.dirname, "../../../.devcontainer/devcontainer.json"));
  });

  it("refuses a configured path that does not exist", async () => {
    await expect(locateDevcontainer(dir, "env/dev.json")).rejects.toThrow(`container.devcontainer: env/dev.json does not exist (looked at ${path.join(dir, "env/dev.json")})`);
  });

  it("follows a configured path elsewhere", async () => {
    const file = await put("env/dev.json", '{"image": "x"}');
    expect(await locateDevcontainer(dir, "env/dev.json")).toEqual({ file, origin: "project" });
  });
});

describe("loadDevcontainer", () => {
  it("loads an image config with no inputs hash", async () => {
    await put(CONVENTIONAL, '{"image": "node:20", "remoteUser": "node"}');
    const loaded = await loadDevcontainer({ projectDir: dir, configuredPath: CONVENTIONAL, cspaceDirs: cspaceDirs(), context: context() });
    expect(loaded.imageRef).toBe("node:20");
    expect(loaded.imageInputs).toBeNull();
    expect(loaded.spec.remoteUser).toBe("node");
  });

  it("loads cspace's default, a buildable Dockerfile config tagged by its inputs", async () => {
    const loaded = await loadDevcontainer({ projectDir: dir, configuredPath: CONVENTIONAL, cspaceDirs: cspaceDirs(), context: context(), repoName: "app" });
    expect(loaded.origin).toBe("cspace");
    expect(loaded.spec.image).toMatchObject({ kind: "build", dockerfile: path.join(path.dirname(DEFAULT_DEVCONTAINER), "Dockerfile") });
    expect(loaded.imageInputs).toMatch(/^[0-9a-f]{64}$/);
    expect(loaded.imageRef).toBe(`cspace-image:${loaded.imageInputs?.slice(0, 32) ?? ""}`);
    expect(loaded.spec.workspaceFolder).toBe("/workspaces/app");
  });

  it("resolves ${localWorkspaceFolderBasename} to the project's name, not the instance checkout's", async () => {
    await put(CONVENTIONAL, '{"image": "x", "workspaceFolder": "/workspaces/${localWorkspaceFolderBasename}"}');
    const checkout = path.join(dir, "data", "workspaces", "issue-7");
    const loaded = await loadDevcontainer({
      projectDir: dir,
      configuredPath: CONVENTIONAL,
      cspaceDirs: cspaceDirs(),
      context: { ...context(), localWorkspaceFolder: checkout },
      repoName: "shop",
    });
    expect(loaded.spec.workspaceFolder).toBe("/workspaces/shop");
  });

  it("names the file in a parse error", async () => {
    const file = await put(CONVENTIONAL, '{"image": "x", "features": {"a": {}}}');
    await expect(loadDevcontainer({ projectDir: dir, configuredPath: CONVENTIONAL, cspaceDirs: cspaceDirs(), context: context() })).rejects.toThrow(`${file}: features:`);
  });

  it("refuses a missing Dockerfile as the user's to fix", async () => {
    await put(CONVENTIONAL, '{"build": {"dockerfile": "Nope"}}');
    const error: unknown = await loadDevcontainer({ projectDir: dir, configuredPath: CONVENTIONAL, cspaceDirs: cspaceDirs(), context: context() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toContain(`the Dockerfile ${path.join(dir, ".devcontainer/Nope")} does not exist`);
  });
});

describe("loadDevcontainer keeps the forge token on the host", () => {
  const TOKEN = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";

  async function refusal(config: unknown, over: { env?: Record<string, string>; configContainerEnv?: Record<string, string>; forgeTokens?: string[] } = {}): Promise<UserError> {
    await put(CONVENTIONAL, JSON.stringify(config));
    const error: unknown = await loadDevcontainer({
      projectDir: dir,
      configuredPath: CONVENTIONAL,
      cspaceDirs: cspaceDirs(),
      context: { ...context(), localEnv: { HOME: "/home/ada", GH_TOKEN: TOKEN, ...over.env } },
      configContainerEnv: over.configContainerEnv,
      forgeTokens: over.forgeTokens,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    const refused = error as UserError;
    expect(refused.message).toMatch(/forge token would reach the container/);
    expect(`${refused.message} ${refused.hint ?? ""}`).not.toContain(TOKEN);
    return refused;
  }

  it.each([
    ["containerEnv by reference", { containerEnv: { T: "${localEnv:GH_TOKEN}" } }, "containerEnv.T: reads ${localEnv:GH_TOKEN}"],
    ["containerEnv by name", { containerEnv: { GITHUB_TOKEN: "x" } }, "containerEnv.GITHUB_TOKEN: sets GITHUB_TOKEN"],
    ["remoteEnv, embedded", { remoteEnv: { URL: "https://x:${localEnv:GH_TOKEN}@github.com" } }, "remoteEnv.URL: reads ${localEnv:GH_TOKEN}"],
    ["runArgs -e NAME", { runArgs: ["-e", "GH_TOKEN"] }, "runArgs[1]: passes GH_TOKEN"],
    ["runArgs --env NAME=…", { runArgs: ["--env", "GH_ENTERPRISE_TOKEN=abc"] }, "runArgs[1]: passes GH_ENTERPRISE_TOKEN"],
    ["runArgs --env=NAME", { runArgs: ["--env=GITHUB_ENTERPRISE_TOKEN"] }, "runArgs[0]: passes GITHUB_ENTERPRISE_TOKEN"],
    ["the value under another name", { containerEnv: { X: TOKEN } }, "containerEnv.X: holds the forge token's value"],
    ["a host variable that holds it", { containerEnv: { X: "${localEnv:MINE}" } }, "containerEnv.X: reads ${localEnv:MINE}, whose value holds"],
    ["-e copying a host variable that holds it", { runArgs: ["-e", "MINE"] }, "runArgs[1]: copies the host's MINE"],
    ["a lifecycle command", { postCreateCommand: { login: "echo ${env:GH_TOKEN} | gh auth login" } }, "postCreateCommand.login: reads ${env:GH_TOKEN}"],
    ["a build arg", { build: { dockerfile: "Dockerfile", args: { GH_TOKEN: "${localEnv:GH_TOKEN}" } } }, "build.args.GH_TOKEN: sets GH_TOKEN"],
    ["gh's config folder", { mounts: ["source=${localEnv:HOME}/.config/gh,target=/gh,type=bind"] }, "mounts[0]: binds /home/ada/.config/gh, which exposes /home/ada/.config/gh"],
    ["a folder above it", { mounts: [{ source: "/home/ada/.config", target: "/config", type: "bind" }] }, "mounts[0]: binds /home/ada/.config, which exposes /home/ada/.config/gh"],
  ])("refuses %s, naming the key", async (_route, devcontainer, problem) => {
    const config = { image: "x", ...devcontainer };
    const refused = await refusal(config, { env: { MINE: `prefix-${TOKEN}` } });
    expect(refused.message).toContain(`${path.join(dir, CONVENTIONAL)}: ${problem}`);
  });

  it("refuses a token cspace found elsewhere (gh auth token) by value", async () => {
    const fromGh = "gho_abcdefghijklmnopqrstuvwxyz0123456789";
    const refused = await refusal({ image: "x", containerEnv: { A: fromGh } }, { forgeTokens: [fromGh] });
    expect(refused.message).toContain("containerEnv.A: holds the forge token's value");
    expect(refused.message).not.toContain(fromGh);
  });

  it("refuses .cspace.json container.env, and lists every problem at once", async () => {
    const refused = await refusal({ image: "x", runArgs: ["-e", "GH_TOKEN"] }, { configContainerEnv: { GH_TOKEN: "1", API: `Bearer ${TOKEN}`, OK: "1" } });
    expect(refused.message).toContain("(3 problems)");
    expect(refused.message).toContain(".cspace.json: container.env.GH_TOKEN: sets GH_TOKEN");
    expect(refused.message).toContain(".cspace.json: container.env.API: its value holds the forge token");
    expect(refused.message).not.toContain("container.env.OK");
  });

  it("refuses --env-file, which could carry anything, before reading it", async () => {
    await put(CONVENTIONAL, JSON.stringify({ image: "x", runArgs: ["--env-file", "/home/ada/.env"] }));
    const error: unknown = await loadDevcontainer({ projectDir: dir, configuredPath: CONVENTIONAL, cspaceDirs: cspaceDirs(), context: context() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toContain('runArgs: "--env-file" is not supported by cspace');
  });

  it("accepts what carries no token, even with one set, and ignored keys", async () => {
    await put(CONVENTIONAL, JSON.stringify({
      image: "x",
      containerEnv: { HOME_COPY: "${localEnv:HOME}", TOKENISH: "GH_TOKEN is not set here" },
      runArgs: ["-e", "HOME"],
      mounts: ["source=${localEnv:HOME}/.ssh,target=/ssh,type=bind"],
      customizations: { vscode: { settings: { t: "${localEnv:GH_TOKEN}" } } },
    }));
    const loaded = await loadDevcontainer({
      projectDir: dir,
      configuredPath: CONVENTIONAL,
      cspaceDirs: cspaceDirs(),
      context: { ...context(), localEnv: { HOME: "/home/ada", GH_TOKEN: TOKEN } },
      configContainerEnv: { DEBUG: "1" },
    });
    expect(loaded.spec.containerEnv.HOME_COPY).toBe("/home/ada");
  });
});

describe("buildInputsHash", () => {
  const source = (over: Partial<BuildSource> = {}): BuildSource => ({
    kind: "build",
    dockerfile: path.join(dir, "ctx/Dockerfile"),
    context: path.join(dir, "ctx"),
    args: {},
    target: null,
    ...over,
  });

  beforeEach(async () => {
    await put("ctx/Dockerfile", "FROM cspace-base:bookworm\n");
    await put("ctx/a.txt", "a");
    await put("ctx/sub/b.txt", "b");
  });

  it("is stable for the same inputs", async () => {
    expect(await buildInputsHash(source())).toBe(await buildInputsHash(source()));
  });

  it.each<[string, (s: BuildSource) => Promise<BuildSource>]>([
    ["the Dockerfile", async (s) => (await put("ctx/Dockerfile", "FROM other\n"), s)],
    ["a file's content", async (s) => (await put("ctx/sub/b.txt", "B"), s)],
    ["a new file", async (s) => (await put("ctx/c.txt", ""), s)],
    ["a file's name", async (s) => (await rm(path.join(dir, "ctx/a.txt")), await put("ctx/A.txt", "a"), s)],
    ["an executable bit", async (s) => (await chmod(path.join(dir, "ctx/a.txt"), 0o755), s)],
    ["a symlink's target", async (s) => (await symlink("a.txt", path.join(dir, "ctx/link")), s)],
    ["a build arg", (s) => Promise.resolve({ ...s, args: { NODE: "20" } })],
    ["the target", (s) => Promise.resolve({ ...s, target: "dev" })],
  ])("changes with %s", async (_what, change) => {
    const before = await buildInputsHash(source());
    expect(await buildInputsHash(await change(source()))).not.toBe(before);
  });

  it("does not depend on the order build args are written in", async () => {
    expect(await buildInputsHash(source({ args: { A: "1", B: "2" } }))).toBe(await buildInputsHash(source({ args: { B: "2", A: "1" } })));
  });

  it("skips .git and what .dockerignore excludes, but not what it re-includes", async () => {
    await put("ctx/.dockerignore", "# build junk\nnode_modules\n**/*.log\nsub/\n!sub/keep.txt\n");
    const before = await buildInputsHash(source());
    await put("ctx/.git/HEAD", "ref: refs/heads/x\n");
    await put("ctx/node_modules/m/index.js", "x");
    await put("ctx/debug.log", "x");
    await put("ctx/sub/deeper/trace.log", "x");
    await put("ctx/sub/b.txt", "changed but ignored");
    expect(await buildInputsHash(source())).toBe(before);
    await put("ctx/sub/keep.txt", "re-included");
    expect(await buildInputsHash(source())).not.toBe(before);
  });

  it("refuses a missing context folder", async () => {
    await expect(buildInputsHash(source({ context: path.join(dir, "nope") }))).rejects.toThrow(/build context .* is not a directory/);
  });
});

describe("loadDevcontainer keeps the host out of a worker", () => {
  const checkout = () => path.join(dir, "data", "workspaces", "issue-7");

  async function load(mounts: unknown[], env: Record<string, string> = {}): Promise<unknown> {
    await put(CONVENTIONAL, JSON.stringify({ image: "x", mounts }));
    await mkdir(checkout(), { recursive: true });
    return loadDevcontainer({
      projectDir: dir,
      configuredPath: CONVENTIONAL,
      cspaceDirs: cspaceDirs(),
      context: { ...context(), localWorkspaceFolder: checkout(), localEnv: { HOME: path.join(dir, "home"), ...env } },
    }).catch((e: unknown) => e);
  }

  async function refusal(mounts: unknown[], env: Record<string, string> = {}): Promise<string> {
    const error = await load(mounts, env);
    expect(error).toBeInstanceOf(UserError);
    return (error as UserError).message;
  }

  const file = () => path.join(dir, CONVENTIONAL);

  it("refuses the engine's socket, naming the file and the key, in both mount forms", async () => {
    expect(await refusal(["source=/var/run/docker.sock,target=/var/run/docker.sock,type=bind"])).toContain(`${file()}: mounts[0]: binds /var/run/docker.sock`);
    expect(await refusal([{ source: "/srv", target: "/t", type: "bind" }, { source: "/run/docker.sock", target: "/d.sock", type: "bind" }])).toMatch(
      /: mounts\[1\]: binds \/run\/docker\.sock.*a container engine's socket/,
    );
  });

  it("refuses the folder of the socket DOCKER_HOST names", async () => {
    const engine = path.join(dir, "engine");
    await mkdir(engine);
    const message = await refusal([`source=${engine},target=/engine,type=bind`], { DOCKER_HOST: `unix://${engine}/docker.sock` });
    expect(message).toContain(`mounts[0]: binds ${engine}, which contains ${engine}/docker.sock: a container engine's socket`);
  });

  it("refuses the host's root and home, however they are spelt", async () => {
    await mkdir(path.join(dir, "home"), { recursive: true });
    expect(await refusal(["source=/,target=/host,type=bind"])).toContain("mounts[0]: binds /: the host's root");
    expect(await refusal(["source=${localWorkspaceFolder}/../../../home,target=/h,type=bind"])).toContain(`mounts[0]: binds ${path.join(dir, "home")}: the user's home folder`);
  });

  it("follows a link the checkout holds to where the host would mount it from", async () => {
    await mkdir(checkout(), { recursive: true });
    await symlink(path.join(dir, "run"), path.join(checkout(), "cache"));
    await mkdir(path.join(dir, "run"), { recursive: true });
    const message = await refusal(["source=${localWorkspaceFolder}/cache,target=/cache,type=bind"]);
    expect(message).toContain(`mounts[0]: binds ${checkout()}/cache (${path.join(dir, "run")} on the host): cspace's run directory`);
  });

  it("refuses cspace's data directory and anything in it but the instance's own checkout", async () => {
    expect(await refusal(["source=${localWorkspaceFolder}/..,target=/all,type=bind"])).toContain(`mounts[0]: binds ${path.join(dir, "data", "workspaces")}, inside ${path.join(dir, "data")}`);
    expect(await load(["source=${localWorkspaceFolder}/data,target=/data,type=bind", "source=/srv,target=/srv,type=bind", "source=cache,target=/cache,type=volume"])).not.toBeInstanceOf(Error);
  });
});
