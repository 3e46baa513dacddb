import { appendFile, mkdir, rename, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { eventsEnd, lastEventTime, readAllEvents, tailEvents, type EventLine } from "../../../src/services/workers/events.ts";
import { followAgent } from "../../../src/services/workers/follow.ts";
import { instancePaths, type InstancePaths } from "../../../src/services/workers/instance-files.ts";
import { parseSince } from "../../../src/services/workers/logs.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";

const tempDir = useTempDirs("events");

const line = (n: number, type = "text", source = "agent"): string => `${JSON.stringify({ ts: new Date(Date.UTC(2026, 4, 1, 10, 0, n)).toISOString(), source, type, text: `event ${String(n)}` })}\n`;

async function instance(): Promise<InstancePaths> {
  const paths = instancePaths(await tempDir(), "issue-1");
  await mkdir(paths.dir);
  return paths;
}

/** Collects what the tail yields until it has `count` lines, writing more as `step` says after each. */
async function take(lines: AsyncIterable<EventLine>, count: number, step: (seen: number) => Promise<void>): Promise<string[]> {
  const seen: string[] = [];
  for await (const l of lines) {
    seen.push(l.event?.text ?? l.raw);
    if (seen.length === count) break;
    await step(seen.length);
  }
  return seen;
}

describe("events.ndjson", () => {
  it("reads the rotated file first, skips blank lines and keeps lines that are not events as raw", async () => {
    const paths = await instance();
    await writeFile(paths.eventsRotated, line(1) + line(2));
    await writeFile(paths.events, `${line(3)}\nnot json\n`);
    const all = await readAllEvents(paths);
    expect(all.map((l) => l.event?.text ?? `raw:${l.raw}`)).toEqual(["event 1", "event 2", "event 3", "raw:not json"]);
    expect(await lastEventTime(paths)).toBe("2026-05-01T10:00:03.000Z");
  });

  it("follows from a position across a rotation without losing or repeating a line, and waits for a partial line's end", async () => {
    const paths = await instance();
    await writeFile(paths.events, line(1));
    const from = await eventsEnd(paths);
    expect(from).not.toBeNull();
    await appendFile(paths.events, line(2));
    const controller = new AbortController();
    const half = line(4);
    const seen = await take(tailEvents(paths, { from: from ?? "start", signal: controller.signal }), 4, async (n) => {
      if (n === 1) {
        // events 2 and 3 land in the file, which is then rotated; 4 is written in two pieces in the new file.
        await appendFile(paths.events, line(3));
        await rename(paths.events, paths.eventsRotated);
        await writeFile(paths.events, half.slice(0, 10));
        await appendFile(paths.events, half.slice(10) + line(5));
      }
    });
    controller.abort();
    expect(seen).toEqual(["event 2", "event 3", "event 4", "event 5"]);
  }, 10_000);

  it("ends a follow when the supervisor is gone, after reading what is left", async () => {
    const paths = await instance();
    await writeFile(paths.events, line(1) + line(2, "exited", "supervisor").replace("event 2", "success (exit 0)"));
    const end = await followAgent(paths, "start", { onLine: () => undefined });
    expect(end).toEqual({ kind: "exited", outcome: "success", exitCode: null, signal: null });
    await writeFile(paths.events, line(1));
    const lines: string[] = [];
    const lost = await followAgent(paths, "start", { onLine: (l) => lines.push(l.raw) });
    expect(lost).toEqual({ kind: "lost" });
    expect(lines).toHaveLength(1);
  }, 10_000);
});

describe("--since", () => {
  const now = new Date("2026-05-01T12:00:00Z");
  it("takes durations back from now and times", () => {
    expect(parseSince("90s", now).toISOString()).toBe("2026-05-01T11:58:30.000Z");
    expect(parseSince("10m", now).toISOString()).toBe("2026-05-01T11:50:00.000Z");
    expect(parseSince("2h", now).toISOString()).toBe("2026-05-01T10:00:00.000Z");
    expect(parseSince("1d", now).toISOString()).toBe("2026-04-30T12:00:00.000Z");
    expect(parseSince("30", now).toISOString()).toBe("2026-05-01T11:59:30.000Z");
    expect(parseSince("2026-05-01T10:00:00Z", now).toISOString()).toBe("2026-05-01T10:00:00.000Z");
  });
  it("refuses anything else as a user error", () => {
    expect(() => parseSince("yesterday", now)).toThrow(/neither a duration nor a time/);
  });
});
