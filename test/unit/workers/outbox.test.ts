import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { WorkerReport } from "../../../src/core/agents/worker-status.ts";
import { collectOutbox, type ReportSink } from "../../../src/services/workers/outbox.ts";
import { instancePaths } from "../../../src/services/workers/instance-files.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";
import { sampleReport } from "../../support/worker-report.ts";

const tempDir = useTempDirs("outbox");

function memorySink(known: readonly string[] = []): ReportSink & { readonly stored: WorkerReport[] } {
  const stored: WorkerReport[] = [];
  const ids = new Set(known);
  return {
    stored,
    has: (id) => ids.has(id),
    persist: (r) => {
      ids.add(r.id);
      stored.push(r);
    },
  };
}

async function outboxWith(files: Readonly<Record<string, string>>) {
  const paths = instancePaths(await tempDir(), "issue-1");
  await mkdir(paths.delivered, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(paths.outbox, name), text);
  return paths;
}

describe("collecting undelivered reports from an outbox", () => {
  it("persists each report once, oldest first, and moves it to delivered/", async () => {
    const a = "issue-1-20260501T100000000Z-aaaaaa";
    const b = "issue-1-20260501T100500000Z-bbbbbb";
    const paths = await outboxWith({ [`${b}.json`]: JSON.stringify(sampleReport(b)), [`${a}.json`]: JSON.stringify(sampleReport(a)) });
    const sink = memorySink();
    const result = await collectOutbox(paths, sink);
    expect(result.collected.map((r) => r.id)).toEqual([a, b]);
    expect(sink.stored.map((r) => r.id)).toEqual([a, b]);
    expect(await readdir(paths.outbox)).toEqual(["delivered"]);
    expect((await readdir(paths.delivered)).sort()).toEqual([`${a}.json`, `${b}.json`]);
    // Collecting again finds nothing.
    expect(await collectOutbox(paths, sink)).toEqual({ collected: [], duplicates: [], unreadable: [] });
  });

  it("drops a report whose id was persisted before (delivered over the socket meanwhile), and still moves it", async () => {
    const id = "issue-1-20260501T100000000Z-aaaaaa";
    const paths = await outboxWith({ [`${id}.json`]: JSON.stringify(sampleReport(id)) });
    const sink = memorySink([id]);
    const result = await collectOutbox(paths, sink);
    expect(result).toMatchObject({ collected: [], duplicates: [id] });
    expect(sink.stored).toEqual([]);
    expect(await readdir(paths.delivered)).toEqual([`${id}.json`]);
  });

  it("skips a report the worker wrote that does not fit the protocol (issue 12's bogus outcome), and still collects the good one", async () => {
    const good = "issue-1-20260501T100000000Z-aaaaaa";
    const paths = await outboxWith({
      "bogus.json": JSON.stringify({ ...sampleReport("bogus"), outcome: "bogus" }),
      "bad-sha.json": JSON.stringify({ ...sampleReport("bad-sha"), headSha: "--output=/etc/passwd" }),
      [`${good}.json`]: JSON.stringify(sampleReport(good)),
    });
    const sink = memorySink();
    const result = await collectOutbox(paths, sink);
    expect(sink.stored.map((r) => r.id)).toEqual([good]);
    expect(result.unreadable.map((u) => [path.basename(u.file), u.reason.split(":")[0]])).toEqual([
      ["bad-sha.json", "report.headSha"],
      ["bogus.json", "report.outcome"],
    ]);
  });

  it("skips dot-files (a supervisor's temporary file) and leaves files that are not reports, naming them", async () => {
    const id = "issue-1-20260501T100000000Z-aaaaaa";
    const paths = await outboxWith({
      [`.${id}.json.tmp`]: "{half",
      [`.${id}.json`]: JSON.stringify(sampleReport(id)),
      "broken.json": "{not json",
      "other.json": JSON.stringify({ hello: "world" }),
      "notes.txt": "ignored",
    });
    const sink = memorySink();
    const result = await collectOutbox(paths, sink);
    expect(result.collected).toEqual([]);
    expect(result.unreadable.map((u) => path.basename(u.file))).toEqual(["broken.json", "other.json"]);
    expect(result.unreadable[1]?.reason).toMatch(/^report\.id: /);
    expect((await readdir(paths.outbox)).sort()).toEqual([`.${id}.json`, `.${id}.json.tmp`, "broken.json", "delivered", "notes.txt", "other.json"]);
  });

  it("finds nothing in an instance with no outbox", async () => {
    const paths = instancePaths(await tempDir(), "never-ran");
    expect(await collectOutbox(paths, memorySink())).toEqual({ collected: [], duplicates: [], unreadable: [] });
  });
});
