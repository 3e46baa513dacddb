import { describe, expect, it } from "vitest";
import { userErrorFrom } from "../../test/support/errors.ts";
import { maxSocketPathBytes, projectId, runDirFor, runDirProblems, socketRoom, type PathEntry } from "./run-dir.ts";

const base = { projectName: "my-project", projectDir: "/home/ada/src/my-project", uid: 1000, tmpdir: "/tmp" };

describe("projectId", () => {
  it("is the name cut to 20 characters and 8 hex digits of the directory's hash", () => {
    const id = projectId("a-rather-long-project-name-indeed", "/src/x");
    expect(id).toMatch(/^a-rather-long-projec-[0-9a-f]{8}$/);
  });

  it("differs between two checkouts of the same project and is stable for one", () => {
    expect(projectId("app", "/a/app")).not.toBe(projectId("app", "/b/app"));
    expect(projectId("app", "/a/app")).toBe(projectId("app", "/a/app"));
  });
});

describe("runDirFor", () => {
  it("takes an absolute CSPACE_RUN_DIR as given: the one folder cspace makes", () => {
    expect(runDirFor({ ...base, env: { CSPACE_RUN_DIR: "/run/here/", XDG_RUNTIME_DIR: "/run/user/1000" } })).toEqual({
      path: "/run/here",
      source: "CSPACE_RUN_DIR",
      made: ["/run/here"],
    });
  });

  it.each([".run", "run", "~/cspace-run", "../x"])("refuses a relative CSPACE_RUN_DIR %j rather than make a folder wherever cspace runs", (dir) => {
    const error = userErrorFrom(() => runDirFor({ ...base, env: { CSPACE_RUN_DIR: dir } }));
    expect(error.message).toBe(`CSPACE_RUN_DIR is a relative path (${JSON.stringify(dir)}); cspace needs an absolute one`);
    expect(error.hint).toContain("$HOME/.cspace-run");
  });

  it("uses $XDG_RUNTIME_DIR/cspace/<project-id> next", () => {
    const dir = runDirFor({ ...base, env: { XDG_RUNTIME_DIR: "/run/user/1000" } });
    expect(dir.source).toBe("XDG_RUNTIME_DIR");
    expect(dir.path).toBe(`/run/user/1000/cspace/${projectId("my-project", base.projectDir)}`);
    expect(dir.made).toEqual(["/run/user/1000/cspace", dir.path]);
  });

  it("falls back to <tmpdir>/cspace-<uid>/<project-id>, ignoring an empty or relative XDG_RUNTIME_DIR", () => {
    const path = `/tmp/cspace-1000/${projectId("my-project", base.projectDir)}`;
    const expected = { path, source: "tmpdir", made: ["/tmp/cspace-1000", path] };
    expect(runDirFor({ ...base, env: {} })).toEqual(expected);
    expect(runDirFor({ ...base, env: { XDG_RUNTIME_DIR: "", CSPACE_RUN_DIR: " " } })).toEqual(expected);
    expect(runDirFor({ ...base, env: { XDG_RUNTIME_DIR: "run/user" } })).toEqual(expected);
  });

  it("names no uid where the platform has none", () => {
    expect(runDirFor({ ...base, uid: undefined, env: {} }).path).toMatch(/^\/tmp\/cspace\/my-project-/);
  });
});

describe("socketRoom", () => {
  it("counts the longest socket path, a 63-character instance name plus .sock", () => {
    const room = socketRoom("/tmp/r", "linux");
    expect(room).toEqual({ longest: "/tmp/r/".length + 63 + ".sock".length, max: 107, fits: true });
  });

  it("does not fit when the directory leaves too little room", () => {
    const dir = `/${"d".repeat(38)}`;
    expect(socketRoom(dir, "linux").fits).toBe(false);
    expect(socketRoom(`/${"d".repeat(37)}`, "linux")).toMatchObject({ longest: 107, fits: true });
  });

  it("counts bytes, not characters, and knows macOS has less room", () => {
    expect(socketRoom("/tmp/é", "linux").longest).toBe(socketRoom("/tmp/e", "linux").longest + 1);
    expect(maxSocketPathBytes("darwin")).toBe(103);
    expect(socketRoom(`/${"d".repeat(37)}`, "darwin").fits).toBe(false);
  });
});

describe("runDirProblems", () => {
  const made = ["/tmp/cspace-1000", "/tmp/cspace-1000/app-1"];
  const dir = (path: string, uid: number, mode: number): PathEntry => ({ path, kind: "directory", uid, mode });
  const safe = [dir("/", 0, 0o755), dir("/tmp", 0, 0o1777), dir(made[0] ?? "", 1000, 0o700), dir(made[1] ?? "", 1000, 0o700)];
  const problemsWith = (entry: PathEntry) => runDirProblems(safe.map((e) => (e.path === entry.path ? entry : e)), made, 1000);

  it("passes the folders the user owns privately under a sticky /tmp", () => {
    expect(runDirProblems(safe, made, 1000)).toEqual([]);
  });

  it.each<[string, PathEntry, RegExp]>([
    ["a parent owned by nobody", dir("/tmp/cspace-1000", 65534, 0o777), /^the run directory's parent \/tmp\/cspace-1000 belongs to someone else \(owner user id 65534, mode 0777; you are user id 1000\)/],
    ["a run directory owned by root", dir("/tmp/cspace-1000/app-1", 0, 0o700), /^the run directory .* belongs to someone else/],
    ["a group-writable parent of ours", dir("/tmp/cspace-1000", 1000, 0o770), /can be written by other users \(owner user id 1000, mode 0770\)/],
    ["a sticky world-writable parent of ours", dir("/tmp/cspace-1000", 1000, 0o1777), /mode 1777/],
    ["a /tmp that is not sticky", dir("/tmp", 0, 0o777), /^the folder above the run directory \/tmp can be written by every user and is not sticky/],
    ["a folder above owned by another user", dir("/tmp", 1001, 0o755), /belongs to another user/],
    ["a file where a folder goes", { path: "/tmp/cspace-1000", kind: "other", uid: 1000, mode: 0o600 }, /exists and is not a directory$/],
  ])("refuses %s", (_what, entry, message) => {
    const problems = problemsWith(entry);
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toMatch(message);
    expect(problems[0]?.hint).toMatch(/CSPACE_RUN_DIR/);
  });

  it("accepts a folder above owned by root or a symbolic link (macOS's /tmp), and judges nothing by owner without a uid", () => {
    expect(problemsWith({ path: "/tmp", kind: "symlink", uid: 0, mode: 0o777 })).toEqual([]);
    expect(runDirProblems([dir("/tmp/cspace-1000", 65534, 0o777)], made, undefined)).toEqual([]);
  });
});
