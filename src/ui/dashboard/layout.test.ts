import { describe, expect, it } from "vitest";
import { frame, model, row } from "../../../test/support/dashboard-frames.ts";
import type { RowGroup } from "../../core/dashboard/model.ts";
import { dashboardLines, GROUP_TONE, type ViewLine, type ViewState } from "./layout.ts";

const idle: ViewState = { selected: null, panel: null, confirmingSkip: null, status: null, canDetach: true };
const text = (line: ViewLine): string => line.map((s) => s.text).join("");
const cells = (line: ViewLine): number => Array.from(text(line)).length;

const busy = model(
  [
    row(1, "merged", { title: "Add the settings file with a title long enough to be cut anywhere", state: "merged as a1b2c3d" }),
    row(2, "working", { depth: 1, title: "Read the settings at start-up", state: "verifying on feature/login + #1" }),
    row(3, "waiting", { depth: 2, state: "waiting on #2" }),
    row(4, "failed", { state: "failed: verify exited 1", needsYou: true }),
    row(5, "blocked", { state: "blocked by the worker: needs an API key" }),
    row(6, "waiting", { state: "parked: usage limit until 14:05" }),
    row(7, "working", { state: "queued to merge, 2nd", costUsd: 123.45, turns: 140, attempt: 12, elapsedMs: 7_800_000 }),
  ],
  {
    needsYou: [
      { kind: "red-base", issue: null, cause: "red-base:abc", reason: "feature/login fails verify on its own: npm test exited 1" },
      { kind: "failed", issue: 4, cause: "failed:4:1", reason: "verify failed three times: npm test exited 1" },
    ],
    held: "usage limit on claude until 14:05",
  },
);
const lastLines = { 2: "Editing src/settings.ts: adding the parser for the nested sections", 7: "Waiting for the merge queue" };

describe("the dashboard's lines", () => {
  for (const columns of [120, 80, 60, 40, 20]) {
    it(`fit ${String(columns)} columns: no line is longer, so nothing wraps`, () => {
      const views: ViewState[] = [
        idle,
        { ...idle, selected: 2, panel: { issue: 2, events: [{ at: "2026-12-06T23:31:02Z", text: "Launched attempt 1 on feature/login, a very long line of events text" }] } },
        { ...idle, selected: 4, confirmingSkip: 4 },
        { ...idle, selected: 7, status: { text: "coordinator: paused the run: nothing new launches or merges until resume", tone: "good" } },
      ];
      for (const view of views) {
        const lines = dashboardLines(frame(busy, lastLines), view, { columns, rows: 40 });
        for (const line of lines) expect(cells(line), text(line)).toBeLessThanOrEqual(columns);
      }
    });
  }

  it("put what needs you first, before the rows, each with its reason", () => {
    const lines = dashboardLines(frame(busy, lastLines), idle, { columns: 80, rows: 40 }).map(text);
    const needs = lines.findIndex((l) => l.startsWith("Needs you (2)"));
    const firstRow = lines.findIndex((l) => /#1\s+Add the settings/.test(l));
    expect(needs).toBeGreaterThan(0);
    expect(needs).toBeLessThan(firstRow);
    expect(lines[needs + 1]).toContain("feature/login fails verify on its own");
    expect(lines[needs + 2]).toContain("#4 verify failed three times");
  });

  it("leave the needs-you section out when nothing needs a person", () => {
    const lines = dashboardLines(frame(model([row(1, "working")])), idle, { columns: 80, rows: 40 }).map(text);
    expect(lines.some((l) => l.includes("Needs you"))).toBe(false);
  });

  it("show every row group in words, with its group's tone, indented by depth", () => {
    const lines = dashboardLines(frame(busy, lastLines), idle, { columns: 100, rows: 40 });
    const groups: [number, RowGroup, string][] = [[1, "merged", "merged as a1b2c3d"], [2, "working", "verifying on feature/login + #1"], [3, "waiting", "waiting on #2"], [4, "failed", "failed: verify exited 1"], [5, "blocked", "blocked by the worker"], [6, "waiting", "parked: usage limit until 14:05"], [7, "working", "queued to merge, 2nd"]];
    for (const [issue, group, words] of groups) {
      const line = lines.find((l) => text(l).includes(`#${String(issue)} `) && text(l).includes(words));
      expect(line, `#${String(issue)}`).toBeDefined();
      expect(line?.find((s) => s.text.includes(words))?.tone).toBe(GROUP_TONE[group]);
    }
    const third = lines.map(text).find((l) => l.includes("#3 "));
    // Two columns for the selection mark, two per level.
    expect(third).toMatch(/^ {6}#3 /);
  });

  it("show the header: counts, spend against the budget, elapsed, the critical path's estimate, paused and held", () => {
    const paused = { ...busy, header: { ...busy.header, paused: true } };
    const lines = dashboardLines(frame(paused), idle, { columns: 160, rows: 40 }).map(text);
    expect(lines[1]).toBe("merged 1 · working 2 · waiting 2 · failed 1 · blocked 1");
    expect(lines[2]).toContain("$125.13 of $10.00 · 12m34s elapsed · ~8m left (critical path)");
    expect(lines[2]).toContain("PAUSED");
    expect(lines[2]).toContain("held: usage limit on claude until 14:05");
  });

  it("show the figures and the agent's last line where there is room, and the selected row's line in full", () => {
    const lines = dashboardLines(frame(busy, lastLines), { ...idle, selected: 2 }, { columns: 140, rows: 40 }).map(text);
    const second = lines.find((l) => l.includes("#2 "));
    expect(second).toContain(" a1  12t   $0.42  3m05s");
    expect(second).toContain("  Editing src/sett");
    expect(second?.startsWith("›")).toBe(true);
    expect(lines).toContain("#2: Editing src/settings.ts: adding the parser for the nested sections");
  });

  it("make a title's control characters spaces: an issue title cannot move the cursor", () => {
    const hostile = model([row(1, "working", { title: "Fix\u001b[2J\u001b[Hthe\rparser\u0007" })]);
    const lines = dashboardLines(frame(hostile), idle, { columns: 80, rows: 20 }).map(text);
    // eslint-disable-next-line no-control-regex -- what must not be there
    for (const line of lines) expect(line).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(lines.find((l) => l.includes("#1 "))).toContain("Fix [2J [Hthe parser");
  });

  it("keep a 50-issue run inside the terminal's height, scrolled to the selected row", () => {
    const rows = Array.from({ length: 50 }, (_, i) => row(i + 1, (["merged", "working", "waiting", "failed", "blocked"] as const)[i % 5] ?? "waiting", { depth: i % 3 }));
    const fifty = frame(model(rows), Object.fromEntries(rows.map((r) => [r.issue, `line of #${String(r.issue)}`])));
    for (const selected of [1, 25, 50]) {
      const lines = dashboardLines(fifty, { ...idle, selected }, { columns: 80, rows: 24 }).map(text);
      expect(lines.length).toBeLessThanOrEqual(23);
      expect(lines.some((l) => l.startsWith(`› `) && l.includes(`#${String(selected)} `))).toBe(true);
      expect(lines.some((l) => /[↑↓] \d+ more/.test(l))).toBe(true);
      for (const line of lines) expect(Array.from(line).length).toBeLessThanOrEqual(80);
    }
  });

  it("say when no coordinator runs the run, so keys cannot act", () => {
    const lines = dashboardLines(frame(busy, {}, false), idle, { columns: 200, rows: 40 }).map(text);
    expect(lines).toContain("No coordinator is running this run: keys cannot reach it (cspace coordinate --resume carries it on).");
  });

  it("name the keys in the footer, pause or resume as the run is", () => {
    expect(dashboardLines(frame(busy), idle, { columns: 80, rows: 40 }).map(text).at(-1)).toBe("↑↓ select · p pause · s skip · r retry · enter events · q detach");
    const paused = model([row(1, "working")], { paused: true });
    expect(dashboardLines(frame(paused), idle, { columns: 40, rows: 40 }).map(text).at(-1)).toBe("↑↓ p:resume s r ⏎ q");
  });
});
