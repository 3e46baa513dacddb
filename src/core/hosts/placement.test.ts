import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { placementPolicies } from "../config/rules.ts";
import { freeSlots, placeWorker, type PlacementHost, type PlacementInput } from "./placement.ts";

const hosts: PlacementHost[] = [
  { name: "local", slots: 2 },
  { name: "big", slots: 12 },
  { name: "k8s", slots: 4 },
];
const none = new Set<string>();

describe("placeWorker", () => {
  it("local-first fills the first host, then the next in config order", () => {
    const at = (running: Record<string, number>) => placeWorker({ hosts, running, lost: none, policy: "local-first" });
    expect(at({})).toBe("local");
    expect(at({ local: 1 })).toBe("local");
    expect(at({ local: 2 })).toBe("big");
    expect(at({ local: 2, big: 12 })).toBe("k8s");
    expect(at({ local: 2, big: 12, k8s: 4 })).toBeNull();
  });

  it("spread picks the host with the most free slots, the first listed among equals", () => {
    const at = (running: Record<string, number>) => placeWorker({ hosts, running, lost: none, policy: "spread" });
    expect(at({})).toBe("big");
    expect(at({ big: 10 })).toBe("k8s");
    expect(at({ big: 10, k8s: 2 })).toBe("local");
    expect(at({ local: 2, big: 12, k8s: 4 })).toBeNull();
  });

  it("never places on a lost host, and moves a worker off one", () => {
    expect(placeWorker({ hosts, running: {}, lost: new Set(["local"]), policy: "local-first" })).toBe("big");
    expect(placeWorker({ hosts, running: {}, lost: new Set(["local", "big", "k8s"]), policy: "spread" })).toBeNull();
    expect(placeWorker({ hosts, running: { big: 3 }, lost: new Set(["big"]), policy: "local-first", current: "big" })).toBe("local");
  });

  it("keeps a worker on the host of its existing container, even a full one", () => {
    expect(placeWorker({ hosts, running: { local: 2, big: 12 }, lost: none, policy: "local-first", current: "big" })).toBe("big");
    expect(placeWorker({ hosts, running: {}, lost: none, policy: "spread", current: "local" })).toBe("local");
  });

  it("places a worker whose host was removed from the configuration anew", () => {
    expect(placeWorker({ hosts, running: {}, lost: none, policy: "local-first", current: "gone" })).toBe("local");
  });

  it("reads only the hosts' own counts (a host named like an Object property runs none)", () => {
    expect(placeWorker({ hosts: [{ name: "constructor", slots: 1 }], running: {}, lost: none, policy: "local-first" })).toBe("constructor");
  });
});

describe("placeWorker, on any hosts and counts", () => {
  const names = ["local", "big", "k8s", "ci", "edge"];
  const input: fc.Arbitrary<PlacementInput> = fc
    .uniqueArray(fc.record({ name: fc.constantFrom(...names), slots: fc.integer({ min: 1, max: 6 }) }), { selector: (host) => host.name, maxLength: 5 })
    .chain((configured) =>
      fc.record({
        hosts: fc.constant(configured),
        running: fc.dictionary(fc.constantFrom(...names), fc.integer({ min: 0, max: 7 })),
        lost: fc.subarray(names).map((lost) => new Set(lost)),
        policy: fc.constantFrom(...placementPolicies),
        current: fc.option(fc.constantFrom(...names), { nil: undefined }),
      }),
    );

  it("places a new worker only on a configured host that is not lost and has a free slot; null only when there is none", () => {
    fc.assert(
      fc.property(input, (given) => {
        const fresh = { ...given, current: undefined };
        const chosen = placeWorker(fresh);
        const open = freeSlots(fresh).filter((host) => host.free > 0);
        if (chosen === null) {
          expect(open).toEqual([]);
          return;
        }
        expect(fresh.lost.has(chosen)).toBe(false);
        const host = fresh.hosts.find((candidate) => candidate.name === chosen);
        expect(host).toBeDefined();
        expect(fresh.running[chosen] ?? 0).toBeLessThan(host?.slots ?? 0);
      }),
      { numRuns: 2000 },
    );
  });

  it("never fills a host over its slots, however many workers are placed one after another", () => {
    fc.assert(
      fc.property(input, fc.integer({ min: 1, max: 40 }), (given, count) => {
        const fresh = { ...given, current: undefined };
        const running: Record<string, number> = { ...fresh.running };
        let placed = 0;
        for (let n = 0; n < count; n++) {
          const chosen = placeWorker({ ...fresh, running });
          if (chosen === null) break;
          running[chosen] = (running[chosen] ?? 0) + 1;
          placed += 1;
        }
        const capacity = freeSlots(fresh).reduce((sum, host) => sum + Math.max(0, host.free), 0);
        expect(placed).toBe(Math.min(count, capacity));
        for (const host of fresh.hosts) {
          if (fresh.lost.has(host.name)) expect(running[host.name] ?? 0).toBe(fresh.running[host.name] ?? 0);
          else expect(running[host.name] ?? 0).toBeLessThanOrEqual(Math.max(host.slots, fresh.running[host.name] ?? 0));
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("keeps a worker on its host unless that host is lost or gone, and never moves one onto a lost host", () => {
    fc.assert(
      fc.property(input, (given) => {
        const chosen = placeWorker(given);
        const { current } = given;
        const stays = current !== undefined && !given.lost.has(current) && given.hosts.some((host) => host.name === current);
        if (stays) expect(chosen).toBe(current);
        else expect(chosen).toBe(placeWorker({ ...given, current: undefined }));
        if (chosen !== null) expect(given.lost.has(chosen)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it("is deterministic: the same situation, however its counts are ordered, gives the same host", () => {
    fc.assert(
      fc.property(input, (given) => {
        const reordered = { ...given, running: Object.fromEntries(Object.entries(given.running).reverse()), lost: new Set([...given.lost].reverse()) };
        expect(placeWorker(reordered)).toBe(placeWorker(given));
        expect(placeWorker(given)).toBe(placeWorker(given));
      }),
      { numRuns: 1000 },
    );
  });
});
