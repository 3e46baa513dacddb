import { readdir, readFile, stat } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openInstanceMirror, type MirrorLostError } from "../../src/adapters/fs/instance-mirror.ts";
import { readAllEvents } from "../../src/services/workers/events.ts";
import { instancePaths } from "../../src/services/workers/instance-files.ts";
import { collectOutbox } from "../../src/services/workers/outbox.ts";
import { readRecordedStatus } from "../../src/services/workers/probe.ts";
import { sampleReport } from "../support/worker-report.ts";
import { mirrorContainer, USER, type MirrorContainer } from "./mirror-container.ts";

/**
 * The instance-directory mirror against a real container on the local
 * engine, whose /run/cspace is NOT bind-mounted: the host's copy is filled
 * only by `worker.cjs mirror` over the engine's exec stream, and the host's
 * own readers (events, state.json, the outbox collection) read that copy.
 */

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function container(): Promise<MirrorContainer> {
  const made = await mirrorContainer("mirror");
  cleanups.push(() => made.remove());
  return made;
}

function event(n: number): string {
  return JSON.stringify({ ts: `2026-05-01T10:00:${String(n).padStart(2, "0")}.000Z`, source: "agent", type: "text", text: `line ${String(n)}` });
}

/** Appends events n..m to /run/cspace/events.ndjson, one write each, as the supervisor does. */
const appendEvents = (from: number, to: number): string =>
  Array.from({ length: to - from + 1 }, (_, i) => `printf '%s\\n' '${event(from + i)}' >> /run/cspace/events.ndjson`).join("\n");

function status(state: string): string {
  return JSON.stringify({ instance: "issue-1", preset: "scripted", state, exitCode: state === "exited" ? 0 : null, signal: null, turns: 1, costUsd: null, sessionId: null, lastActivity: "2026-05-01T10:00:00.000Z", queueDepth: 0, branch: "issue-1", headSha: null, pid: 7, startedAt: "2026-05-01T10:00:00.000Z" });
}

/** Replaces a file the way writeFileAtomic does: a temporary dot-file renamed over it. */
const replace = (file: string, content: string): string => `printf '%s\\n' '${content}' > /run/cspace/.tmp.$$ && mv /run/cspace/.tmp.$$ /run/cspace/${file}`;

async function sameAsContainer(c: MirrorContainer, file: string): Promise<void> {
  expect(await readFile(path.join(c.hostDir, file), "utf8")).toBe(await c.sh(`cat /run/cspace/${file}`));
}

describe("the instance-directory mirror of a real container with no shared directory", () => {
  it("brings appended events, a replaced state.json and a report moved to delivered/ to the host, where its readers read them", async () => {
    const c = await container();
    const mirror = await openInstanceMirror({ runtime: c.runtime, containerId: c.id, user: USER, hostDir: c.hostDir });
    cleanups.push(() => mirror.close());
    const id = "issue-1-20260501T100000000Z-aaaaaa";
    await c.sh([appendEvents(1, 3), replace("state.json", status("working")), "mkdir -p /run/cspace/outbox/delivered", `printf '%s' '${JSON.stringify(sampleReport(id))}' > /run/cspace/outbox/${id}.json`].join("\n"));
    await mirror.synced();
    await sameAsContainer(c, "events.ndjson");
    await sameAsContainer(c, `outbox/${id}.json`);
    const paths = instancePaths(c.runDir, "issue-1");
    expect((await readRecordedStatus(paths))?.state).toBe("working");

    await c.sh([appendEvents(4, 5), replace("state.json", status("exited")), `mv /run/cspace/outbox/${id}.json /run/cspace/outbox/delivered/`].join("\n"));
    await mirror.synced();
    expect((await readAllEvents(paths)).map((line) => line.event?.text)).toEqual(["line 1", "line 2", "line 3", "line 4", "line 5"]);
    expect((await readRecordedStatus(paths))?.state).toBe("exited");
    expect(await readdir(path.join(c.hostDir, "outbox"))).toEqual(["delivered"]);
    await sameAsContainer(c, `outbox/delivered/${id}.json`);
    expect(mirror.lost).toBeNull();
  });

  it("gives the coordinator a report the worker wrote just before synced() was called", async () => {
    const c = await container();
    const mirror = await openInstanceMirror({ runtime: c.runtime, containerId: c.id, user: USER, hostDir: c.hostDir, pollMs: 60_000 });
    cleanups.push(() => mirror.close());
    const id = "issue-1-20260501T100500000Z-bbbbbb";
    // A poll far away: only the sync's own scan can have brought it.
    await c.sh(`mkdir -p /run/cspace/outbox && printf '%s' '${JSON.stringify(sampleReport(id))}' > /run/cspace/outbox/${id}.json`);
    await mirror.synced();
    const persisted: string[] = [];
    const collected = await collectOutbox(instancePaths(c.runDir, "issue-1"), { has: () => false, persist: (report) => { persisted.push(report.id); } });
    expect(collected.collected.map((report) => report.id)).toEqual([id]);
    expect(persisted).toEqual([id]);
  });

  it("killed and started again, resumes where the host's copy ends: no event line twice, none lost", async () => {
    const c = await container();
    const first = await openInstanceMirror({ runtime: c.runtime, containerId: c.id, user: USER, hostDir: c.hostDir });
    await c.sh(appendEvents(1, 3));
    await first.synced();
    const copied = (await stat(path.join(c.hostDir, "events.ndjson"))).ino;
    const lost = new Promise<MirrorLostError>((resolve) => { first.onLost(resolve); });
    // The agent (same user) kills the mirror; more events come while none runs, then the log rotates.
    await c.sh(`for p in /proc/[0-9]*; do { tr '\\0' ' ' < "$p/cmdline"; } 2>/dev/null | grep -q '^node /opt/cspace/worker[.]cjs mirror' && kill -9 "\${p#/proc/}"; done; true`);
    expect((await lost).message).toMatch(/its command in the container ended \(exit code 137\)/);
    await c.sh([appendEvents(4, 5), "mv /run/cspace/events.ndjson /run/cspace/events.1.ndjson", appendEvents(6, 7)].join("\n"));

    const second = await openInstanceMirror({ runtime: c.runtime, containerId: c.id, user: USER, hostDir: c.hostDir });
    cleanups.push(() => second.close());
    await second.synced();
    await c.sh(appendEvents(8, 8));
    await second.synced();
    const texts = (await readAllEvents(instancePaths(c.runDir, "issue-1"))).map((line) => line.event?.text);
    expect(texts).toEqual(["line 1", "line 2", "line 3", "line 4", "line 5", "line 6", "line 7", "line 8"]);
    await sameAsContainer(c, "events.1.ndjson");
    await sameAsContainer(c, "events.ndjson");
    // The host's copy was renamed and appended to, not sent again: the same file (inode) now at events.1.ndjson.
    expect((await stat(path.join(c.hostDir, "events.1.ndjson"))).ino).toBe(copied);
  });

  it("ends its command in the container when closed", async () => {
    const c = await container();
    const mirror = await openInstanceMirror({ runtime: c.runtime, containerId: c.id, user: USER, hostDir: c.hostDir });
    await mirror.synced();
    expect(await c.mirrors()).toBe(1);
    await mirror.close();
    expect(await c.mirrors()).toBe(0);
    expect(mirror.lost).toBeNull();
  });
});
