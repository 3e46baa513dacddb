import React from "react";
import { render } from "ink-testing-library";
import stringWidth from "string-width";
import { afterEach, describe, expect, it, vi } from "vitest";
import { frame, FrameFeed, model, row } from "../../../test/support/dashboard-frames.ts";
import type { RecentLine } from "./frame.ts";
import { Dashboard, type DashboardExit, type DashboardProps } from "./view.ts";

/** The ink view driven by frames pushed by hand, keys typed into its stdin, and a recording sender. */

const KEY = { up: "\u001B[A", down: "\u001B[B", enter: "\r", ctrlC: "\u0003" };

interface Harness {
  readonly feed: FrameFeed;
  readonly sent: string[];
  readonly exits: DashboardExit[];
  readonly stdin: { write(data: string): void };
  lastFrame(): string;
  frames(): readonly string[];
  unmount(): void;
}

const mounted: Harness[] = [];
afterEach(() => {
  for (const harness of mounted.splice(0)) harness.unmount();
});

function mount(props: Partial<DashboardProps> & { columns?: number; rows?: number; answer?: (command: string) => Promise<string> } = {}): Harness {
  const feed = new FrameFeed();
  const sent: string[] = [];
  const exits: DashboardExit[] = [];
  const answer = props.answer ?? ((command: string) => Promise.resolve(`did ${command}`));
  const app = render(
    React.createElement(Dashboard, {
      frames: feed,
      send: (command) => {
        sent.push(command);
        return answer(command);
      },
      recentEvents: props.recentEvents ?? (() => Promise.resolve([])),
      onExit: (exit) => exits.push(exit),
      colour: props.colour ?? false,
      canDetach: props.canDetach ?? true,
      size: { columns: props.columns ?? 100, rows: props.rows ?? 40 },
      minFrameMs: 0,
    }),
  );
  const harness: Harness = { feed, sent, exits, stdin: app.stdin, lastFrame: () => app.lastFrame() ?? "", frames: () => app.frames, unmount: () => { app.unmount(); } };
  mounted.push(harness);
  return harness;
}

const run = model([row(1, "merged"), row(2, "working", { depth: 1 }), row(3, "waiting", { depth: 2 }), row(4, "failed", { needsYou: true })], {
  needsYou: [{ kind: "failed", issue: 4, cause: "failed:4:1", reason: "verify failed: npm test exited 1" }],
});

/** Waits for what the view shows, generously: CI's two cores are busy. */
function until(check: () => void): Promise<void> {
  return vi.waitFor(check, { timeout: 30_000, interval: 20 });
}

/** Types a key once the view shows `ready` (so the key meets the frame it is meant for). */
async function press(h: Harness, key: string, ready?: string): Promise<void> {
  if (ready !== undefined) await until(() => { expect(h.lastFrame()).toContain(ready); });
  h.stdin.write(key);
}

describe("the ink dashboard", () => {
  for (const columns of [80, 60, 40]) {
    it(`draws no line longer than ${String(columns)} columns, wide characters included`, async () => {
      const h = mount({ columns });
      h.feed.push(frame(model([...run.rows, row(5, "working", { title: "設定ファイルを読み込む処理を追加して検証する長いタイトル" })], { needsYou: run.needsYou }), { 2: "a long last line from the agent ".repeat(5), 5: "日本語の最後の行".repeat(4) }));
      await until(() => { expect(h.lastFrame()).toContain("#5"); });
      for (const line of h.lastFrame().split("\n")) expect(stringWidth(line), line).toBeLessThanOrEqual(columns);
    });
  }

  it("shows needs-you first, then the run's rows, and a 50-issue run within the terminal", async () => {
    const h = mount({ columns: 80, rows: 24 });
    const rows = Array.from({ length: 50 }, (_, i) => row(i + 1, "waiting"));
    h.feed.push(frame(model(rows, { needsYou: [{ kind: "red-base", issue: null, cause: "red-base:1", reason: "feature/login is red" }] })));
    await until(() => { expect(h.lastFrame()).toContain("more"); });
    const lines = h.lastFrame().split("\n");
    expect(lines.length).toBeLessThan(24);
    expect(lines.findIndex((l) => l.startsWith("Needs you"))).toBeLessThan(lines.findIndex((l) => l.includes("#1 ")));
    // Moving down past the window scrolls it.
    for (let i = 0; i < 30; i++) h.stdin.write("j");
    await until(() => { expect(h.lastFrame()).toMatch(/› +#31 /); });
    expect(h.lastFrame().split("\n").length).toBeLessThan(24);
  });

  it("writes no escape sequence with colour off (NO_COLOR)", async () => {
    const plain = mount({ colour: false });
    plain.feed.push(frame(run, { 2: "working hard" }));
    await until(() => { expect(plain.lastFrame()).toContain("#4"); });
    expect(plain.frames().join("")).not.toContain("\u001B[");
  });

  it("p pauses the run, and resumes it once the run is paused, showing the coordinator's answer", async () => {
    const h = mount();
    h.feed.push(frame(run));
    await press(h, "p", "#4");
    await until(() => { expect(h.lastFrame()).toContain("coordinator: did pause"); });
    h.feed.push(frame({ ...run, header: { ...run.header, paused: true } }));
    await press(h, "p", "PAUSED");
    await until(() => { expect(h.sent).toEqual(["pause", "resume"]); });
  });

  it("shows the coordinator's refusal on the status line", async () => {
    const h = mount({ answer: () => Promise.reject(new Error("no coordinator is running for this project")) });
    h.feed.push(frame(run));
    await press(h, "r", "#4");
    await until(() => { expect(h.lastFrame()).toContain("retry 4: no coordinator is running for this project"); });
  });

  it("r retries the selected issue; ↑/↓ and j/k move the selection", async () => {
    const h = mount();
    h.feed.push(frame(run));
    // The first frame selects what needs you: #4.
    await press(h, "r", "› ");
    await press(h, KEY.up);
    await press(h, "k");
    await until(() => { expect(h.lastFrame()).toMatch(/›\s+#2 /); });
    await press(h, "r");
    await press(h, KEY.down);
    await press(h, "j");
    await until(() => { expect(h.lastFrame()).toMatch(/›\s+#4 /); });
    await until(() => { expect(h.sent).toEqual(["retry 4", "retry 2"]); });
  });

  it("s asks first; a second s (or y) skips the selected issue, any other key cancels", async () => {
    const h = mount();
    h.feed.push(frame(run));
    await press(h, "s", "#4");
    await until(() => { expect(h.lastFrame()).toContain("Skip #4?"); });
    await press(h, "x");
    await until(() => { expect(h.lastFrame()).not.toContain("Skip #4?"); });
    expect(h.sent).toEqual([]);
    await press(h, "s");
    await press(h, "s", "Skip #4?");
    await press(h, KEY.up);
    await press(h, "s", "› ");
    await press(h, "y", "Skip #3?");
    await until(() => { expect(h.sent).toEqual(["skip 4 skipped from the dashboard", "skip 3 skipped from the dashboard"]); });
  });

  it("enter shows the selected worker's recent events, and enter again hides them", async () => {
    const asked: number[] = [];
    const events: RecentLine[] = [{ at: "2026-12-06T23:31:02Z", text: "Launched attempt 1 on feature/login" }, { at: "2026-12-06T23:40:12Z", text: "Verify failed: npm test exited 1" }];
    const h = mount({ recentEvents: (issue) => { asked.push(issue); return Promise.resolve(events); } });
    h.feed.push(frame(run));
    await press(h, KEY.enter, "#4");
    await until(() => { expect(h.lastFrame()).toContain("23:40:12 Verify failed: npm test exited 1"); });
    expect(h.lastFrame()).toContain("Recent events of #4");
    expect(asked).toEqual([4]);
    await press(h, KEY.enter);
    await until(() => { expect(h.lastFrame()).not.toContain("Recent events of #4"); });
  });

  it("q detaches, Ctrl-C interrupts; where the run lives in this process, q says so instead", async () => {
    const h = mount();
    h.feed.push(frame(run));
    await press(h, "q", "#4");
    await press(h, KEY.ctrlC);
    await until(() => { expect(h.exits).toEqual([{ kind: "detached" }, { kind: "interrupted" }]); });
    const own = mount({ canDetach: false });
    own.feed.push(frame(run));
    await press(own, "q", "#4");
    await until(() => { expect(own.lastFrame()).toContain("Ctrl-C stops it"); });
    expect(own.exits).toEqual([]);
  });

  it("ends with the last frame shown when the run ends", async () => {
    const h = mount();
    h.feed.push(frame(run));
    const done = model([row(1, "merged"), row(2, "merged")], { ended: true });
    h.feed.push(frame(done));
    h.feed.end();
    await until(() => { expect(h.exits.map((e) => e.kind)).toEqual(["ended"]); });
    expect(h.lastFrame()).toContain("merged 2 ·");
    const exit = h.exits[0];
    expect(exit?.kind === "ended" ? exit.frame?.model.ended : null).toBe(true);
  });
});
