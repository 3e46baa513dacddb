import { describe, expect, it } from "vitest";
import { maxSocketPathBytes, projectId, runDirFor, socketRoom } from "./run-dir.ts";

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
  it("takes CSPACE_RUN_DIR as given, resolving a relative one against the project", () => {
    expect(runDirFor({ ...base, env: { CSPACE_RUN_DIR: "/run/here", XDG_RUNTIME_DIR: "/run/user/1000" } })).toEqual({
      path: "/run/here",
      source: "CSPACE_RUN_DIR",
    });
    expect(runDirFor({ ...base, env: { CSPACE_RUN_DIR: ".run" } }).path).toBe("/home/ada/src/my-project/.run");
  });

  it("uses $XDG_RUNTIME_DIR/cspace/<project-id> next", () => {
    const dir = runDirFor({ ...base, env: { XDG_RUNTIME_DIR: "/run/user/1000" } });
    expect(dir.source).toBe("XDG_RUNTIME_DIR");
    expect(dir.path).toBe(`/run/user/1000/cspace/${projectId("my-project", base.projectDir)}`);
  });

  it("falls back to <tmpdir>/cspace-<uid>/<project-id>, ignoring an empty or relative XDG_RUNTIME_DIR", () => {
    const expected = { path: `/tmp/cspace-1000/${projectId("my-project", base.projectDir)}`, source: "tmpdir" };
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
