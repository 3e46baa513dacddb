import { lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openInstanceMirror, type InstanceMirror, type MirrorLostError } from "../../src/adapters/fs/instance-mirror.ts";
import { mirrorContainer, USER, type MirrorContainer } from "../docker/mirror-container.ts";

/**
 * A prompt-injected agent against the instance-directory mirror, from inside
 * a real container whose /run/cspace is not shared with the host. It poses
 * as the mirror (its own program on the exec stream, sending the frames a
 * host must refuse), or plants a link, a FIFO and giant files for the real
 * mirror to read. The host (often root) must write nothing outside the
 * instance's copy, follow no link, keep every file to its limit, and never
 * hang: the mirror is lost with a clear reason, or goes on without the bad
 * file and says why.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

interface Target {
  readonly c: MirrorContainer;
  /** Host files outside the instance's copy, with their content: none may change. */
  readonly canaries: Readonly<Record<string, string>>;
}

async function target(): Promise<Target> {
  const c = await mirrorContainer("hostile-mirror");
  cleanups.push(() => c.remove());
  const canaries: Record<string, string> = {
    [path.join(c.runDir, "canary.json")]: "the run directory's own\n",
    [path.join(c.runDir, "_host", "issue-1", "launch.json")]: '{"host":"only"}\n',
  };
  await mkdir(path.join(c.runDir, "_host", "issue-1"), { recursive: true });
  for (const [file, content] of Object.entries(canaries)) await writeFile(file, content);
  return { c, canaries };
}

async function untouched(t: Target): Promise<void> {
  for (const [file, content] of Object.entries(t.canaries)) expect(await readFile(file, "utf8")).toBe(content);
  expect((await readdir(t.c.runDir)).sort()).toEqual(["_host", "canary.json", "issue-1"]);
  expect(await readdir(path.join(t.c.runDir, "_host", "issue-1"))).toEqual(["launch.json"]);
}

/** The impostor: a program of the agent's in the container that writes these lines where the mirror's would go, then waits. */
async function impostor(c: MirrorContainer, lines: readonly string[]): Promise<string[]> {
  await c.runtime.copyIn(c.id, [{ path: "/tmp/impostor.ndjson", content: lines.map((line) => `${line}\n`).join(""), mode: 0o644 }]);
  const program = "process.stdout.write(require('fs').readFileSync('/tmp/impostor.ndjson')); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));";
  return ["node", "-e", program];
}

async function lostWith(mirror: InstanceMirror): Promise<MirrorLostError> {
  const error = await new Promise<MirrorLostError>((resolve) => { mirror.onLost(resolve); });
  // Nothing waits forever on a lost mirror.
  await expect(mirror.synced()).rejects.toBe(error);
  return error;
}

const hello = JSON.stringify({ t: "hello", v: 1 });
const b64 = (text: string): string => Buffer.from(text).toString("base64");

describe("a worker posing as the instance-directory mirror", () => {
  it.each([
    ["write beside the instance's copy", { t: "put", path: "../canary.json", data: b64("owned") }, /"\.\.\/canary\.json" has an empty, "\." or "\.\." part/],
    ["write into the host-only directory", { t: "put", path: "../_host/issue-1/launch.json", data: b64("owned") }, /has an empty, "\." or "\.\." part/],
    ["write at an absolute path", { t: "put", path: "/etc/cron.d/owned", data: b64("* * * * * root sh") }, /is absolute/],
    ["rotate a log out of the directory", { t: "move", from: "events.ndjson", to: "../canary.json" }, /has an empty, "\." or "\.\." part/],
    ["write a name the host keeps for itself", { t: "put", path: "launch.json", data: b64("{}") }, /"launch\.json" is not a file cspace mirrors/],
    ["replace the relay's socket", { t: "put", path: "c.sock", data: b64("x") }, /"c\.sock" is not a file cspace mirrors/],
    ["append past the host's copy", { t: "append", path: "events.ndjson", offset: 4096, data: b64("x") }, /which the host does not hold/],
    ["write a state.json beyond the record limit", { t: "put", path: "state.json", data: Buffer.alloc(1024 * 1024 + 10, 0x20).toString("base64") }, /more than the 1048576 the host keeps of it/],
  ])("cannot %s", async (_attack, frame, reason) => {
    const t = await target();
    const mirror = await openInstanceMirror({ runtime: t.c.runtime, containerId: t.c.id, user: USER, hostDir: t.c.hostDir, command: await impostor(t.c, [hello, JSON.stringify(frame)]) });
    cleanups.push(() => mirror.close());
    expect((await lostWith(mirror)).message).toMatch(reason);
    await untouched(t);
    expect(await readdir(t.c.hostDir)).toEqual([]);
  });

  it("cannot append at an offset other than where the host's copy ends", async () => {
    const t = await target();
    const put = JSON.stringify({ t: "put", path: "events.ndjson", data: b64("one\n") });
    const skip = JSON.stringify({ t: "append", path: "events.ndjson", offset: 2, data: b64("overwrite\n") });
    const mirror = await openInstanceMirror({ runtime: t.c.runtime, containerId: t.c.id, user: USER, hostDir: t.c.hostDir, command: await impostor(t.c, [hello, put, skip]) });
    cleanups.push(() => mirror.close());
    expect((await lostWith(mirror)).message).toMatch(/an append to events\.ndjson at offset 2, but the host holds 4 bytes of it/);
    expect(await readFile(path.join(t.c.hostDir, "events.ndjson"), "utf8")).toBe("one\n");
    await untouched(t);
  });

  it("cannot hang the host by going silent: its missed heartbeat makes the mirror lost", async () => {
    const t = await target();
    const mirror = await openInstanceMirror({ runtime: t.c.runtime, containerId: t.c.id, user: USER, hostDir: t.c.hostDir, beatMs: 200, command: await impostor(t.c, [hello]) });
    cleanups.push(() => mirror.close());
    const waiting = mirror.synced();
    const error = await lostWith(mirror);
    expect(error.message).toMatch(/nothing came from the worker for 600 ms \(its heartbeat stopped\)/);
    await expect(waiting).rejects.toBe(error);
  });
});

describe("files a worker plants in /run/cspace for the real mirror", () => {
  it("a link, a FIFO, an oversized report, a giant log and a linked outbox folder: none followed, none past its limit, nothing hangs", async () => {
    const t = await target();
    await t.c.sh([
      "cd /run/cspace",
      "ln -s /etc/shadow state.json",
      "mkfifo events.1.ndjson",
      "mkdir -p outbox && ln -s /etc outbox/delivered",
      "head -c 2097152 /dev/zero | tr '\\0' x > outbox/issue-1-20260501T100000000Z-big.json",
      // 20 MiB of log, more than the 16 MiB the host keeps.
      "head -c 20971520 /dev/zero | tr '\\0' 'y' > supervisor.log",
      "echo '{\"ts\":\"2026-05-01T10:00:00.000Z\",\"source\":\"agent\",\"type\":\"text\",\"text\":\"still here\"}' > events.ndjson",
    ].join("\n"));
    const notes: string[] = [];
    const mirror = await openInstanceMirror({ runtime: t.c.runtime, containerId: t.c.id, user: USER, hostDir: t.c.hostDir, onNote: (text) => notes.push(text) });
    cleanups.push(() => mirror.close());
    await mirror.synced();
    expect(mirror.lost).toBeNull();
    expect((await readdir(t.c.hostDir)).sort()).toEqual(["events.ndjson", "supervisor.log"]);
    expect(await readFile(path.join(t.c.hostDir, "events.ndjson"), "utf8")).toMatch(/still here/);
    const log = await stat(path.join(t.c.hostDir, "supervisor.log"));
    expect(log.size).toBe(8 * 1024 * 1024);
    expect(notes.sort()).toEqual([
      "events.1.ndjson is not a regular file (a link, a FIFO or a directory): it is not mirrored",
      "outbox/delivered is not a directory: nothing in it is mirrored",
      "outbox/issue-1-20260501T100000000Z-big.json is 2097152 bytes, more than the 1048576 the host keeps of it: it is not mirrored",
      "state.json is not a regular file (a link, a FIFO or a directory): it is not mirrored",
      "supervisor.log passed the 16777216 bytes the host keeps of it: the host now keeps its end only",
    ]);
    await untouched(t);
  });

  it("links left in the host's copy (from a worker that once shared it) are replaced, never written through", async () => {
    const t = await target();
    const canary = Object.keys(t.canaries)[0] ?? "";
    await symlink(canary, path.join(t.c.hostDir, "state.json"));
    await symlink(canary, path.join(t.c.hostDir, "events.ndjson"));
    await t.c.sh(`cd /run/cspace && echo '{}' > state.json && echo '{"ts":"2026-05-01T10:00:00.000Z","source":"agent","type":"text","text":"x"}' > events.ndjson`);
    const mirror = await openInstanceMirror({ runtime: t.c.runtime, containerId: t.c.id, user: USER, hostDir: t.c.hostDir });
    cleanups.push(() => mirror.close());
    await mirror.synced();
    expect(mirror.lost).toBeNull();
    for (const name of ["state.json", "events.ndjson"]) expect((await lstat(path.join(t.c.hostDir, name))).isFile()).toBe(true);
    expect(await readFile(path.join(t.c.hostDir, "state.json"), "utf8")).toBe("{}\n");
    await untouched(t);
  });
});
