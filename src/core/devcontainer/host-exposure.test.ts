import { describe, expect, it } from "vitest";
import { UserError } from "../errors.ts";
import { hostExposures, refuseExposures, type BindSource, type GuardedPath, type HostPath } from "./host-exposure.ts";

const FILE = "/src/app/.devcontainer/devcontainer.json";

const at = (...forms: string[]): HostPath => ({ forms, identity: null });
const guard = (what: string, reach: GuardedPath["reach"], ...forms: string[]): GuardedPath => ({ ...at(...forms), what, reach });

const GUARDED: GuardedPath[] = [
  guard("the host's root", "it-and-above", "/"),
  { ...guard("a container engine's socket", "it-and-above", "/var/run/docker.sock", "/run/docker.sock"), identity: "8:12" },
  guard("the user's home folder", "it-and-above", "/home/ada"),
  guard("cspace's data directory", "anywhere-near", "/home/ada/.local/share/cspace"),
  guard("cspace's run directory", "anywhere-near", "/run/user/1000/cspace"),
];
const OWN_WORKSPACE = at("/home/ada/.local/share/cspace/app-1/workspaces/issue-3");

const bind = (key: string, ...forms: string[]): BindSource => ({ ...at(...forms), key });
const reasons = (...sources: BindSource[]) => hostExposures(FILE, sources, GUARDED, [OWN_WORKSPACE]).map((e) => `${e.key}: ${e.reason}`);

describe("hostExposures", () => {
  it.each([
    ["/var/run/docker.sock", "binds /var/run/docker.sock: a container engine's socket"],
    ["/run", "binds /run, which contains /var/run/docker.sock: a container engine's socket"],
    ["/", "binds /: the host's root"],
    ["/home/ada", "binds /home/ada: the user's home folder"],
    ["/home", "binds /home, which contains /home/ada: the user's home folder"],
    ["/home/ada/.local/share/cspace", "binds /home/ada/.local/share/cspace: cspace's data directory"],
    ["/home/ada/.local", "binds /home/ada/.local, which contains /home/ada/.local/share/cspace: cspace's data directory"],
    ["/home/ada/.local/share/cspace/app-1/objects.git", "binds /home/ada/.local/share/cspace/app-1/objects.git, inside /home/ada/.local/share/cspace: cspace's data directory"],
    ["/home/ada/.local/share/cspace/app-1/workspaces/issue-4", "binds /home/ada/.local/share/cspace/app-1/workspaces/issue-4, inside /home/ada/.local/share/cspace: cspace's data directory"],
    ["/run/user/1000/cspace/app-1/issue-4", "binds /run/user/1000/cspace/app-1/issue-4, inside /run/user/1000/cspace: cspace's run directory"],
  ])("refuses a bind of %s", (source, reason) => {
    expect(reasons(bind("mounts[0]", source))).toEqual([`mounts[0]: ${reason}`]);
  });

  it("judges a source by where the host resolves it, and says so", () => {
    expect(reasons(bind("mounts[1]", "/tmp/cache", "/run/docker.sock"))).toEqual(["mounts[1]: binds /tmp/cache (/run/docker.sock on the host): a container engine's socket"]);
  });

  it("knows a hard link to the engine's socket by its identity", () => {
    expect(reasons({ ...bind("mounts[0]", "/tmp/innocent.sock"), identity: "8:12" })).toEqual(["mounts[0]: binds /tmp/innocent.sock: a container engine's socket"]);
  });

  it.each([
    "/home/ada/.npmrc",
    "/home/ada/code/shared-cache",
    "/srv/data",
    "/home/ada/.local/share/cspace/app-1/workspaces/issue-3",
    "/home/ada/.local/share/cspace/app-1/workspaces/issue-3/node_modules",
    "/home/ada/.local/share/cspace-other",
  ])("allows a bind of %s (inside the home, the instance's own checkout, or unrelated)", (source) => {
    expect(reasons(bind("mounts[0]", source))).toEqual([]);
  });

  it("refuses them all in one error naming the file and each key", () => {
    const exposures = hostExposures(FILE, [bind("mounts[0]", "/srv"), bind("mounts[1]", "/var/run/docker.sock"), bind("mounts[3]", "/")], GUARDED);
    let error: unknown;
    try {
      refuseExposures(exposures);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UserError);
    expect((error as UserError).kind).toBe("user");
    expect((error as UserError).message).toBe(
      [
        "mounts would hand the worker the host (2 problems):",
        `  ${FILE}: mounts[1]: binds /var/run/docker.sock: a container engine's socket`,
        `  ${FILE}: mounts[3]: binds /: the host's root`,
      ].join("\n"),
    );
    expect(() => {
      refuseExposures([]);
    }).not.toThrow();
  });
});
