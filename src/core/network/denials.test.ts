import { describe, expect, it } from "vitest";
import { countDenials, describeDenials } from "./denials.ts";

const denial = (host: string, time: string) => JSON.stringify({ event: "egress-denied", time, host, port: 443, method: "CONNECT", from: "10.0.0.2" });

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
    expect(countDenials(log)).toEqual({ count: 3, hosts: [{ host: "evil.example", count: 2 }, { host: "10.0.0.9", count: 1 }] });
  });

  it("counts only those since the run started", () => {
    expect(countDenials(log, "2026-12-06T10:30:00.000Z")).toEqual({ count: 2, hosts: [{ host: "10.0.0.9", count: 1 }, { host: "evil.example", count: 1 }] });
  });

  it("says what was denied in one line", () => {
    expect(describeDenials(countDenials(log))).toBe("3 requests to hosts outside container.network.allow were denied: evil.example (2), 10.0.0.9 (1)");
  });
});
