import { describe, expect, it } from "vitest";
import type { CoordinatorEvent } from "../../../src/core/coordinator/events.ts";
import { simulate } from "../../../src/core/coordinator/simulate.ts";
import { initialState } from "../../../src/core/coordinator/state.ts";
import { dashboardModel } from "../../../src/core/dashboard/build.ts";
import { progressMarker } from "../../../src/core/dashboard/progress-comment.ts";
import { ForgeUnavailableError } from "../../../src/core/forge/errors.ts";
import { ProgressComment } from "../../../src/services/coordinate/progress-comment.ts";
import { FakeForge } from "../../fakes/forge.ts";
import { issue } from "../../fakes/issues.ts";

/** A run of 10 and 12 (blocked by 10) as the core plays it, and a forge where #40 is their parent. */
function world() {
  const { events } = simulate({ issues: { 10: [], 12: [10] } });
  const runId = events[0]?.type === "RunStarted" ? events[0].runId : "sim";
  const forge = new FakeForge().addIssues([issue(40, { title: "Epic" }), issue(10, { parent: 40 }), issue(12, { parent: 40, deps: [10] })]);
  const timers: (() => void)[] = [];
  const notices: string[] = [];
  let now = Date.parse("2030-01-01T00:00:00.000Z");
  const comment = new ProgressComment({
    forge,
    parent: 40,
    runId,
    state: initialState(),
    model: dashboardModel,
    notice: (text) => notices.push(text),
    intervalMs: 30_000,
    now: () => now,
    schedule: (run) => {
      timers.push(run);
      return () => timers.splice(timers.indexOf(run), 1);
    },
  });
  const feed = async (list: readonly CoordinatorEvent[]) => {
    for (const event of list) {
      now = Date.parse(event.at);
      comment.observe({ kind: "event", seq: 0, event });
    }
    await comment.finish(null).then(() => undefined, () => undefined);
  };
  return { events, runId, forge, timers, notices, comment, feed, tick: (ms: number) => (now += ms) };
}

const until = (events: readonly CoordinatorEvent[], type: CoordinatorEvent["type"]) => events.slice(0, events.findIndex((e) => e.type === type));

describe("the parent's progress comment as a run goes", () => {
  it("is one comment, created at the start and edited in place: routine progress waits for the interval, a merge and the end are written at once", async () => {
    const { events, forge, timers, comment, runId } = world();
    await comment.start();
    expect(forge.callsOf("commentOnIssue")).toHaveLength(1);
    const routine = until(events, "Merged");
    for (const event of routine) comment.observe({ kind: "event", seq: 0, event });
    // Nothing written for routine events: one timer waits for the interval.
    expect(forge.callsOf("updateComment")).toHaveLength(0);
    expect(timers).toHaveLength(1);
    timers[0]?.();
    await comment.settled();
    expect(forge.callsOf("updateComment")).toHaveLength(1);
    // From the first merge on, each merge and the end is written as it happens.
    const merges: string[] = [];
    for (const event of events.slice(routine.length)) {
      comment.observe({ kind: "event", seq: 0, event });
      await comment.settled();
      if (event.type === "Merged") merges.push((await forge.listComments(40))[0]?.body ?? "");
    }
    expect(merges.map((body) => /(\d) of 2 merged/.exec(body)?.[1])).toEqual(["1", "2"]);
    await comment.finish(null);
    const comments = await forge.listComments(40);
    expect(comments).toHaveLength(1);
    expect(forge.callsOf("commentOnIssue")).toHaveLength(1);
    // Each merge, and the end, were written (edits of the one comment), never more than once per change.
    expect(forge.callsOf("updateComment").length).toBeGreaterThanOrEqual(4);
    const final = comments[0]?.body ?? "";
    expect(final.startsWith(progressMarker(runId))).toBe(true);
    expect(final).toContain("### cspace: 2 of 2 merged — run ended");
    expect(final).toMatch(/\| #10 Issue 10 \| ✅ merged as \w+ \(#\d+\) \| \[#\d+\]\(\S+\) \|/);
    expect(final).toMatch(/\| ↳ #12 Issue 12 \| ✅ merged as \w+ \(#\d+\) \| \[#\d+\]\(\S+\) \|/);
    // Finished: nothing more is written.
    const edits = forge.callsOf("updateComment").length;
    comment.observe({ kind: "event", seq: 0, event: { type: "Paused", at: "2030-01-02T00:00:00.000Z", issue: null } as CoordinatorEvent });
    await comment.finish("late review");
    expect(forge.callsOf("updateComment")).toHaveLength(edits);
  });

  it("finds its own comment again after a crash, by its marker, and edits it instead of posting another", async () => {
    const { events, forge, feed, runId } = world();
    await forge.commentOnIssue(40, `${progressMarker("an-earlier-run")}\nold run`);
    const mine = await forge.commentOnIssue(40, `${progressMarker(runId)}\nas it stood before the crash`);
    await feed(events);
    const comments = await forge.listComments(40);
    expect(comments.map((c) => c.id)).toEqual([mine.id - 1, mine.id]);
    expect(comments[1]?.body).toContain("2 of 2 merged");
    expect(comments[0]?.body).toContain("old run");
  });

  it("says a forge failure once, never stops, and catches up at the next change", async () => {
    const { events, forge, notices, feed } = world();
    forge.failAlways("commentOnIssue", new ForgeUnavailableError("the forge is down"));
    forge.failAlways("listComments", new ForgeUnavailableError("the forge is down"));
    const firstMerge = events.findIndex((e) => e.type === "Merged");
    await expect(feed(events.slice(0, firstMerge + 1))).resolves.toBeUndefined();
    expect(notices).toEqual([expect.stringMatching(/^could not update the progress comment on #40 \(the forge is down\); the run goes on/)]);
    expect(await forge.listComments(40).catch(() => "down")).toBe("down");
  });

  it("writes a new comment when someone deleted it, so the parent still has one", async () => {
    const { forge, comment, events } = world();
    await comment.start();
    forge.failNext("updateComment", new (await import("../../../src/core/forge/errors.ts")).ForgeNotFoundError("comment gone"));
    for (const event of events) comment.observe({ kind: "event", seq: 0, event });
    await comment.finish(null);
    expect(forge.callsOf("commentOnIssue")).toHaveLength(2);
  });
});

describe("the progress comment on GitHub (the simulator) through an outage", () => {
  it("goes on through server errors on every comment request, then creates exactly one comment when GitHub answers again", async () => {
    const { simulatedGithub } = await import("../../support/github-simulator/harness.ts");
    const gh = await simulatedGithub();
    try {
      await gh.seed.issues([{ number: 40, title: "Epic" }, { number: 41, title: "Cart", parent: 40 }]);
      const { events } = simulate({ issues: { 41: [] } });
      const notices: string[] = [];
      const comment = new ProgressComment({ forge: gh.forge, parent: 40, runId: "sim", state: initialState(), model: dashboardModel, notice: (text) => notices.push(text), schedule: () => () => undefined });
      gh.simulator.faults.inject("server-error", { times: 1_000, operationId: "issues/list-comments" });
      await comment.start();
      const merged = events.findIndex((e) => e.type === "Merged");
      for (const event of events.slice(0, merged + 1)) comment.observe({ kind: "event", seq: 0, event });
      await comment.settled();
      expect(gh.simulator.world.issues.get(40)?.comments).toEqual([]);
      expect(notices).toEqual([expect.stringMatching(/^could not update the progress comment on #40 .*the run goes on/)]);
      gh.simulator.faults.clear();
      for (const event of events.slice(merged + 1)) comment.observe({ kind: "event", seq: 0, event });
      await comment.finish(null);
      const comments = gh.simulator.world.issues.get(40)?.comments ?? [];
      expect(comments).toHaveLength(1);
      expect(comments[0]?.body).toContain("1 of 1 merged — run ended");
      expect(notices.at(-1)).toBe("the progress comment on #40 is up to date again");
    } finally {
      await gh.teardown();
    }
  });
});
