import { describe, expect, it } from "vitest";
import { UserError } from "../errors.ts";
import { parseRunArgs, parseSize } from "./run-args.ts";

const FILE = "/p/.devcontainer/devcontainer.json";
const localEnv = { HOST_VAR: "from-host" };
const parse = (args: unknown) => parseRunArgs(FILE, args, localEnv);
const GiB = 1024 ** 3;

describe("parseRunArgs", () => {
  it("is empty without runArgs", () => {
    expect(parse(undefined)).toEqual({ memoryBytes: null, nanoCpus: null, capAdd: [], noNewPrivileges: true, env: {}, init: false });
  });

  it.each([
    [["--memory=4g"], 4 * GiB],
    [["--memory", "512m"], 512 * 1024 ** 2],
    [["-m", "1.5g"], 1.5 * GiB],
    [["-m=2048k"], 2048 * 1024],
    [["--memory=4GB"], 4 * GiB],
    [["--memory=1048576"], 1048576],
    [["--memory=100b"], 100],
    [["--memory=1g", "--memory=2g"], 2 * GiB],
  ])("memory %j → %d bytes", (args, bytes) => {
    expect(parse(args).memoryBytes).toBe(bytes);
  });

  it.each([
    [["--cpus=2"], 2e9],
    [["--cpus", "1.5"], 1.5e9],
    [["--cpus=0.25"], 2.5e8],
  ])("cpus %j → %d nano-CPUs", (args, nano) => {
    expect(parse(args).nanoCpus).toBe(nano);
  });

  it("adds capabilities in order", () => {
    expect(parse(["--cap-add=SYS_PTRACE", "--cap-add", "NET_ADMIN"]).capAdd).toEqual(["SYS_PTRACE", "NET_ADMIN"]);
  });

  it.each([
    [[], true],
    [["--security-opt", "no-new-privileges"], true],
    [["--security-opt=no-new-privileges:true"], true],
    [["--security-opt", "no-new-privileges=false"], false],
    [["--security-opt=no-new-privileges:false"], false],
  ])("no-new-privileges %j → %s", (args, on) => {
    expect(parse(args).noNewPrivileges).toBe(on);
  });

  it("reads --env/-e as KEY=VALUE, and KEY alone from the host (left out when the host has none)", () => {
    expect(parse(["--env=A=1", "-e", "B=x=y", "-e=C=", "--env", "HOST_VAR", "-e", "NOT_ON_HOST"]).env).toEqual({
      A: "1",
      B: "x=y",
      C: "",
      HOST_VAR: "from-host",
    });
  });

  it.each([
    [["--init"], true],
    [["--init=true"], true],
    [["--init", "--init=false"], false],
  ])("init %j → %s", (args, init) => {
    expect(parse(args).init).toBe(init);
  });

  it.each([
    [["--privileged"], '"--privileged" is not supported by cspace'],
    [["--network=host"], '"--network=host" is not supported by cspace'],
    [["-v", "/:/host"], '"-v" is not supported by cspace'],
    [["4g"], '"4g" is not supported by cspace'],
    [["--memory"], "runArgs --memory: missing — expected a value after --memory"],
    [["--memory=lots"], 'runArgs --memory: got "lots" — expected a size above 0'],
    [["--memory=0"], 'runArgs --memory: got "0"'],
    [["--memory=-1g"], 'runArgs --memory: got "-1g"'],
    [["--cpus=0"], 'runArgs --cpus: got "0" — expected a number of CPUs above 0'],
    [["--cpus="], 'runArgs --cpus: got ""'],
    [["--cpus", "many"], 'runArgs --cpus: got "many"'],
    [["--cap-add=SYS PTRACE"], 'runArgs --cap-add: got "SYS PTRACE"'],
    [["-e", "=x"], 'runArgs -e: got "=x" — expected KEY=VALUE or KEY'],
    [["--init=maybe"], 'runArgs --init: got "maybe"'],
    [["--security-opt", "seccomp=unconfined"], 'runArgs --security-opt: got "seccomp=unconfined" — expected no-new-privileges or no-new-privileges=false'],
    [["--security-opt=apparmor=unconfined"], 'runArgs --security-opt: got "apparmor=unconfined"'],
    ["--memory=4g", "runArgs: got \"--memory=4g\" — expected a list of text arguments"],
    [[4], "runArgs: got a list [4]"],
  ])("refuses %j", (args, message) => {
    let error: unknown;
    try {
      parse(args);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).message).toContain(`${FILE}: `);
    expect((error as UserError).message).toContain(message);
  });

  it("lists the supported arguments when refusing one", () => {
    let error: unknown;
    try {
      parse(["--gpus=all"]);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).hint).toContain("supported runArgs: --memory/-m, --cpus, --cap-add, --env/-e, --init");
  });
});

describe("parseSize", () => {
  it.each([["1k", 1024], ["1 m", 1024 ** 2], ["3GiB", 3 * GiB], ["1t", 1024 ** 4], ["x", null], ["", null], ["1q", null], ["1e9", null]])("%j → %s", (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });
});
