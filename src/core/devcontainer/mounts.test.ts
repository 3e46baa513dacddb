import { describe, expect, it } from "vitest";
import { parseMounts } from "./mounts.ts";

const FILE = "/p/.devcontainer/devcontainer.json";

describe("parseMounts", () => {
  it.each([
    ["source=/home/u/.cache,target=/cache,type=bind", { type: "bind", source: "/home/u/.cache", target: "/cache", readOnly: false }],
    ["src=/a,dst=/b,type=bind,readonly", { type: "bind", source: "/a", target: "/b", readOnly: true }],
    ["type=bind,source=/a,destination=/b,ro=true,consistency=cached", { type: "bind", source: "/a", target: "/b", readOnly: true }],
    ["type=bind,source=/a,target=/b,readonly=false", { type: "bind", source: "/a", target: "/b", readOnly: false }],
    ["source=cache-vol,target=/cache,type=volume", { type: "volume", source: "cache-vol", target: "/cache", readOnly: false }],
    ["source=cache-vol,target=/cache", { type: "volume", source: "cache-vol", target: "/cache", readOnly: false }],
    ["target=/anon,type=volume", { type: "volume", source: "", target: "/anon", readOnly: false }],
    ["source=/a,target=/b/../c/,type=bind", { type: "bind", source: "/a", target: "/c/", readOnly: false }],
  ])("string form %j", (text, mount) => {
    expect(parseMounts(FILE, [text])).toEqual([mount]);
  });

  it.each([
    [{ source: "/a", target: "/b", type: "bind" }, { type: "bind", source: "/a", target: "/b", readOnly: false }],
    [{ source: "v", target: "/b", type: "volume", readOnly: true }, { type: "volume", source: "v", target: "/b", readOnly: true }],
    [{ source: "v", target: "/b" }, { type: "volume", source: "v", target: "/b", readOnly: false }],
  ])("object form %j", (object, mount) => {
    expect(parseMounts(FILE, [object])).toEqual([mount]);
  });

  it("is empty without mounts", () => {
    expect(parseMounts(FILE, undefined)).toEqual([]);
  });

  it.each([
    ["/a:/b", 'mounts[0]: got "/a:/b" — unknown mount option "/a:/b"'],
    ["source=/a,target=/b,type=tmpfs", 'mounts[0] type: got "tmpfs" — expected "bind" or "volume"'],
    ["source=/a,type=bind", 'mounts[0] target: got "source=/a,type=bind" — expected an absolute path in the container'],
    ["source=/a,target=b,type=bind", 'mounts[0] target: got "b"'],
    ["source=../../etc,target=/etc,type=bind", 'mounts[0] source: got "../../etc" — expected an absolute host path for a bind mount'],
    ["source=a/b,target=/x,type=volume", 'mounts[0] source: got "a/b" — expected a volume name'],
    ["source=/a,target=/b,type=bind,readonly=maybe", 'mounts[0]: got "source=/a,target=/b,type=bind,readonly=m…" (44 characters) — expected readonly, readonly=true or readonly=false'],
    ["source=/a,target=/b,type=bind,uid=0", 'mounts[0]: got "source=/a,target=/b,type=bind,uid=0" — unknown mount option "uid"'],
  ])("refuses the string %j", (text, message) => {
    expect(() => parseMounts(FILE, [text])).toThrow(`${FILE}: ${message}`);
  });

  it.each([
    [[{ source: "/a", target: "/b", type: 1 }], "mounts[0].type: got 1"],
    [[{ source: 1, target: "/b" }], "mounts[0].source: got 1"],
    [[{ source: "/a", target: 5 }], "mounts[0].target: got 5"],
    [[{ source: "/a", target: "/b", readOnly: "yes" }], 'mounts[0].readOnly: got "yes"'],
    [[42], "mounts[0]: got 42 — expected docker --mount syntax"],
    ["source=/a,target=/b", 'mounts: got "source=/a,target=/b" — expected a list of mounts'],
  ])("refuses %j", (value, message) => {
    expect(() => parseMounts(FILE, value)).toThrow(message);
  });
});
