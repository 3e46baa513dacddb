import { describe, expect, it } from "vitest";
import { simulate, type SimulationResult } from "./simulate.ts";
import { TIME_PARTS, timeSplits } from "./time-splits.ts";
import type { CoordinatorEvent } from "./events.ts";

/** When the issue stopped counting: its merge, failure or block, or the run's last event. */
function endOf(result: SimulationResult, n: number): number {
  const record = result.state.issues[n];
  const end = record?.merge?.mergedAt ?? record?.outcome?.at ?? result.state.lastEventAt ?? "";
  return Date.parse(end);
}

function expectPartsAddUp(result: SimulationResult): void {
  const times = timeSplits(result.events);
  const start = Date.parse(result.state.run?.startedAt ?? "");
  for (const n of Object.keys(result.state.issues).map(Number)) {
    const split = times.issues[n];
    expect(split, `#${String(n)}`).toBeDefined();
    if (split === undefined) continue;
    expect(TIME_PARTS.reduce((sum, part) => sum + split[part], 0), `#${String(n)}'s parts`).toBe(split.totalMs);
    expect(split.totalMs, `#${String(n)}'s time in the run`).toBe(endOf(result, n) - start);
  }
}

describe("time splits: where each issue's time went, from the log", () => {
  it("add up to each issue's time in the run, whatever happened to it", () => {
    expectPartsAddUp(simulate({ issues: { 10: [], 12: [10], 13: [] } }));
    expectPartsAddUp(simulate({ issues: { 10: [], 11: [10], 12: [11] }, settings: { stacking: false, maxParallel: 1 } }));
    expectPartsAddUp(simulate({ issues: { 10: [], 11: [] }, settings: { maxAttempts: 1 }, scripts: { 11: { attempts: ["crash"] } } }));
    expectPartsAddUp(simulate({ issues: { 10: [], 11: [] }, scripts: { 10: { attempts: ["rate-limited"] }, 11: { verify: ["fail"] } } }));
  });

  it("without stacking, a dependent's wait for its dependency's merge is dependency time, named per dependency", () => {
    const result = simulate({ issues: { 12: [], 13: [12] }, settings: { stacking: false } });
    const times = timeSplits(result.events);
    const thirteen = times.issues[13];
    expect(thirteen?.dependenciesMs).toBeGreaterThan(0);
    expect(times.waitedOn[13]?.[12]).toBe(thirteen?.dependenciesMs);
    // #13 could not start before #12 merged: all of its time until then waited on #12, or on its instance.
    const mergedTwelve = Date.parse(result.state.issues[12]?.merge?.mergedAt ?? "");
    const startedThirteen = Date.parse(result.state.issues[13]?.attempts[0]?.startedAt ?? "");
    expect(startedThirteen).toBeGreaterThanOrEqual(mergedTwelve);
    expect(times.issues[12]?.dependenciesMs).toBe(0);
  });

  it("tells working, verifying, merging, waiting for a slot and a usage limit's park apart", () => {
    const result = simulate({ issues: { 10: [], 11: [], 12: [] }, settings: { maxParallel: 1 }, scripts: { 11: { attempts: ["rate-limited"] } } });
    const times = timeSplits(result.events);
    for (const n of [10, 11, 12]) {
      expect(times.issues[n]?.workingMs, `#${String(n)} working`).toBeGreaterThan(0);
      expect(times.issues[n]?.verifyingMs, `#${String(n)} verifying`).toBeGreaterThan(0);
      expect(times.issues[n]?.mergingMs, `#${String(n)} merging`).toBeGreaterThan(0);
    }
    // One slot: #12 waited for the others.
    expect(times.issues[12]?.slotMs).toBeGreaterThan(0);
    expect(times.issues[11]?.parkedMs).toBeGreaterThan(0);
    expect(times.issues[10]?.parkedMs).toBe(0);
  });

  it("counts the time before a resume as stopped, not as work", () => {
    const { events } = simulate({ issues: { 10: [] } });
    const launched = events.findIndex((event) => event.type === "Launched");
    const hour = 3_600_000;
    const later = (event: CoordinatorEvent): CoordinatorEvent => ({ ...event, at: new Date(Date.parse(event.at) + hour).toISOString() });
    // Interrupted right after the launch, resumed an hour later: the issues are read again first.
    const resumed: CoordinatorEvent[] = [
      ...events.slice(0, launched + 1),
      later({ type: "IssuesLoaded", at: events[launched]?.at ?? "", issues: [{ number: 10, title: "Issue 10", state: "open", url: null }], external: [] }),
      ...events.slice(launched + 1).map(later),
    ];
    const split = timeSplits(resumed).issues[10];
    expect(split?.stoppedMs).toBe(hour);
    expect(split?.workingMs).toBeLessThan(hour);
  });
});
