import { describe, expect, it } from "vitest";
import { countDenials, describeDenials } from "./denials.ts";

const denial = (host: string, time: string, from = "10.0.0.2") => JSON.stringify({ event: "egress-denied", time, host, port: 443, method: "CONNECT", from });

describe("countDenials", () => {
  const log = [
    JSON.stringify({ event: "egress-listening", port: 3128, allow: ["a.example"] }),
    denial("evil.example", "2026-12-06T10:00:00.000Z"),
    denial("evil.example", "2026-12-06T11:00:00.000Z"),
    denial("10.0.0.9", "2026-12-06T11:30:00.000Z"),
    "not json",
    '{"event":"egress-denied","host":42}',
    "",
  ].join("\n");

  it("counts the proxy's denial lines by host, most denied first, and ignores any other line", () => {
    expect(countDenials(log)).toMatchObject({ count: 3, hosts: [{ host: "evil.example", count: 2 }, { host: "10.0.0.9", count: 1 }] });
  });

  it("counts only those since the run started", () => {
    expect(countDenials(log, "2026-12-06T10:30:00.000Z")).toMatchObject({ count: 2, hosts: [{ host: "10.0.0.9", count: 1 }, { host: "evil.example", count: 1 }] });
  });

  it("counts them per worker, by the source address each worker has on the workers' network", () => {
    const workers = new Map([["10.0.0.2", "issue-10"], ["10.0.0.3", "issue-11"]]);
    const byWorker = [
      denial("evil.example", "2026-12-06T10:00:00.000Z", "10.0.0.2"),
      denial("evil.example", "2026-12-06T10:01:00.000Z", "::ffff:10.0.0.3"),
      denial("evil.example", "2026-12-06T10:02:00.000Z", "10.0.0.3"),
      denial("evil.example", "2026-12-06T10:03:00.000Z", "10.0.0.99"),
    ].join("\n");
    const counted = countDenials(byWorker, undefined, (address) => workers.get(address) ?? null);
    expect(counted.instances).toEqual([
      { instance: "issue-11", count: 2 },
      { instance: "issue-10", count: 1 },
      { instance: null, count: 1 },
    ]);
    expect(describeDenials(counted)).toBe(
      "4 requests to hosts outside container.network.allow were denied: evil.example (4); from issue-11 (2), issue-10 (1), a worker no longer there (1)",
    );
  });

  it("says what was denied in one line", () => {
    expect(describeDenials(countDenials(log))).toBe("3 requests to hosts outside container.network.allow were denied: evil.example (2), 10.0.0.9 (1); from a worker no longer there (3)");
    expect(describeDenials({ count: 1, hosts: [{ host: "evil.example", count: 1 }] })).toBe("1 request to hosts outside container.network.allow was denied: evil.example (1)");
  });
});
