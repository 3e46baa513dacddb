import { execFileSync } from "node:child_process";
import { lstat, mkdir, readdir, readFile, readlink, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { tempDir } from "../../../test/support/git-fixtures.ts";
import {
  appendUntrustedAt,
  listUntrusted,
  moveUntrusted,
  readUntrustedText,
  removePlantedLinks,
  removeUntrusted,
  renameUntrusted,
  UntrustedFileError,
  writeUntrustedFile,
} from "./untrusted-dir.ts";

// `instance` plays the container-writable directory; `host` holds the files a worker would aim its links at.
let temp: { dir: string; remove(): Promise<void> };
let instance: string;
let host: string;
let canary: string;
beforeEach(async () => {
  temp = await tempDir("cspace-untrusted-");
  instance = path.join(temp.dir, "issue-1");
  host = path.join(temp.dir, "host");
  await mkdir(instance);
  await mkdir(host);
  canary = path.join(host, "canary");
  await writeFile(canary, "the host's own content\n");
});
afterEach(async () => {
  await temp.remove();
});

async function unchanged(): Promise<void> {
  expect(await readFile(canary, "utf8")).toBe("the host's own content\n");
}

describe("a link at the target", () => {
  it("is replaced by a write, and the file it pointed at keeps its content", async () => {
    await symlink(canary, path.join(instance, "launch.json"));
    await writeUntrustedFile(instance, "launch.json", '{"v":1}\n', 0o640);
    await unchanged();
    const written = await lstat(path.join(instance, "launch.json"));
    expect(written.isFile()).toBe(true);
    // Never more than asked for (the umask may take bits away).
    expect(written.mode & 0o777 & ~0o640).toBe(0);
    expect(await readFile(path.join(instance, "launch.json"), "utf8")).toBe('{"v":1}\n');
    // Nothing but the target is left behind (no temporary file).
    expect(await readdir(instance)).toEqual(["launch.json"]);
  });

  it("is refused by a read, naming the file", async () => {
    await symlink(canary, path.join(instance, "state.json"));
    const reading = readUntrustedText(instance, "state.json", 1024);
    await expect(reading).rejects.toBeInstanceOf(UntrustedFileError);
    await expect(reading).rejects.toThrow(`${path.join(instance, "state.json")}: it is a symbolic link`);
  });

  it("is removed, not followed, by a removal", async () => {
    await symlink(canary, path.join(instance, "prompt.md"));
    await removeUntrusted(instance, "prompt.md");
    await unchanged();
    expect(await readdir(instance)).toEqual([]);
  });
});

describe("a link in a parent directory", () => {
  it("is neither listed through, read through, moved through nor written through", async () => {
    // outbox/ points at a host folder holding a report-shaped file; delivered/ at another host folder.
    await writeFile(path.join(host, "r1.json"), '{"id":"r1","instance":"issue-1","outcome":"done"}');
    const elsewhere = path.join(temp.dir, "elsewhere");
    await mkdir(elsewhere);
    await symlink(host, path.join(instance, "outbox"));
    await expect(listUntrusted(instance, ["outbox"])).rejects.toBeInstanceOf(UntrustedFileError);
    await expect(readUntrustedText(instance, "outbox/r1.json", 1024)).rejects.toBeInstanceOf(UntrustedFileError);
    await expect(writeUntrustedFile(instance, "outbox/new.json", "{}", 0o600)).rejects.toBeInstanceOf(UntrustedFileError);
    await expect(removeUntrusted(instance, "outbox/r1.json")).rejects.toBeInstanceOf(UntrustedFileError);

    await mkdir(path.join(instance, "real"));
    await writeFile(path.join(instance, "real", "r2.json"), "{}");
    await symlink(elsewhere, path.join(instance, "delivered"));
    await expect(moveUntrusted(instance, ["outbox"], ["real"], "r1.json")).rejects.toBeInstanceOf(UntrustedFileError);
    await expect(moveUntrusted(instance, ["real"], ["delivered"], "r2.json")).rejects.toBeInstanceOf(UntrustedFileError);

    expect((await readdir(host)).sort()).toEqual(["canary", "r1.json"]);
    expect(await readdir(elsewhere)).toEqual([]);
    await unchanged();
  });

  it("works below real directories", async () => {
    await mkdir(path.join(instance, "outbox", "delivered"), { recursive: true });
    await writeUntrustedFile(instance, "outbox/r1.json", "{}", 0o600);
    expect((await listUntrusted(instance, ["outbox"])).map((entry) => entry.name).sort()).toEqual(["delivered", "r1.json"]);
    expect(await moveUntrusted(instance, ["outbox"], ["outbox", "delivered"], "r1.json")).toBe(true);
    expect(await readUntrustedText(instance, "outbox/delivered/r1.json", 10)).toBe("{}");
    expect(await moveUntrusted(instance, ["outbox"], ["outbox", "delivered"], "r1.json")).toBe(false);
  });
});

it("refuses a FIFO at once instead of waiting for a writer", async () => {
  const fifo = path.join(instance, "state.json");
  execFileSync("mkfifo", [fifo]);
  await expect(readUntrustedText(instance, "state.json", 1024)).rejects.toThrow("it is a FIFO, not a regular file");
  expect((await stat(fifo)).isFIFO()).toBe(true);
});

it("refuses a file larger than its kind may be, naming it and the limit", async () => {
  await writeFile(path.join(instance, "state.json"), "x".repeat(2048));
  const reading = readUntrustedText(instance, "state.json", 1024);
  await expect(reading).rejects.toBeInstanceOf(UntrustedFileError);
  await expect(reading).rejects.toThrow(`${path.join(instance, "state.json")}: it is larger than the 1024 bytes cspace reads of it`);
  expect(await readUntrustedText(instance, "state.json", 2048)).toHaveLength(2048);
});

it("reads nothing where there is nothing (a missing file, a missing directory)", async () => {
  expect(await readUntrustedText(instance, "state.json", 10)).toBeNull();
  expect(await readUntrustedText(instance, "outbox/x.json", 10)).toBeNull();
  expect(await listUntrusted(instance, ["outbox"])).toEqual([]);
});

it("refuses the root itself when it is a link", async () => {
  const linked = path.join(temp.dir, "issue-2");
  await symlink(host, linked);
  expect(await readlink(linked)).toBe(host);
  await expect(readUntrustedText(linked, "canary", 1024)).rejects.toBeInstanceOf(UntrustedFileError);
  await expect(writeUntrustedFile(linked, "canary", "overwritten", 0o600)).rejects.toBeInstanceOf(UntrustedFileError);
  await unchanged();
});

it("removes the links planted in a directory, and only them, without touching what they point at", async () => {
  await symlink(canary, path.join(instance, "events.ndjson"));
  await symlink(host, path.join(instance, "outbox"));
  await writeFile(path.join(instance, "state.json"), "{}");
  expect((await removePlantedLinks(instance)).sort()).toEqual(["events.ndjson", "outbox"]);
  expect(await readdir(instance)).toEqual(["state.json"]);
  expect(await readdir(host)).toEqual(["canary"]);
  await unchanged();
});

it("appends only at a regular file's end, never through a link, never creating one", async () => {
  await writeFile(path.join(instance, "events.ndjson"), "one\n");
  await appendUntrustedAt(instance, "events.ndjson", 4, Buffer.from("two\n"));
  expect(await readFile(path.join(instance, "events.ndjson"), "utf8")).toBe("one\ntwo\n");
  await expect(appendUntrustedAt(instance, "events.ndjson", 3, Buffer.from("x"))).rejects.toThrow(/it is 8 bytes long, not the 3 an append there expects/);
  await symlink(canary, path.join(instance, "supervisor.log"));
  await expect(appendUntrustedAt(instance, "supervisor.log", 23, Buffer.from("owned"))).rejects.toBeInstanceOf(UntrustedFileError);
  await expect(appendUntrustedAt(instance, "events.1.ndjson", 0, Buffer.from("x"))).rejects.toThrow(/cannot append/);
  expect((await readdir(instance)).sort()).toEqual(["events.ndjson", "supervisor.log"]);
  await unchanged();
});

it("renames within the directory, replacing a link at the target rather than writing through it", async () => {
  await writeFile(path.join(instance, "events.ndjson"), "rotated\n");
  await symlink(canary, path.join(instance, "events.1.ndjson"));
  expect(await renameUntrusted(instance, "events.ndjson", "events.1.ndjson")).toBe(true);
  expect((await lstat(path.join(instance, "events.1.ndjson"))).isFile()).toBe(true);
  expect(await readFile(path.join(instance, "events.1.ndjson"), "utf8")).toBe("rotated\n");
  expect(await renameUntrusted(instance, "events.ndjson", "events.1.ndjson")).toBe(false);
  await unchanged();
});
