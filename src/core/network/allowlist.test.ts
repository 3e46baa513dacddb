import { describe, expect, it } from "vitest";
import { resolveConfig } from "../config/layers.ts";
import { resolvePlainConfig } from "../config/plain.ts";
import { PRESETS } from "../agents/presets/index.ts";
import { egressPolicy, expandAllowlist, hostAllowed } from "./allowlist.ts";

describe("hostAllowed", () => {
  const allow = ["api.anthropic.com", "*.githubusercontent.com", "10.1.2.3", "fd00::7"];

  it.each([
    ["api.anthropic.com", true],
    ["API.Anthropic.COM.", true],
    ["raw.githubusercontent.com", true],
    ["a.b.githubusercontent.com", true],
    // A wildcard names what is below the domain, not the domain itself.
    ["githubusercontent.com", false],
    ["evilgithubusercontent.com", false],
    ["anthropic.com", false],
    ["api.anthropic.com.evil.example", false],
    ["10.1.2.3", true],
    ["10.1.2.4", false],
    ["[fd00::7]", true],
    ["fd00::8", false],
    ["", false],
  ])("%j → %j", (host, allowed) => {
    expect(hostAllowed(host, allow)).toBe(allowed);
  });

  it("lets no IP address through a wildcard", () => {
    expect(hostAllowed("10.0.0.1", ["*.0.0.1"])).toBe(false);
    expect(hostAllowed("1.2.3.4", ["*.3.4"])).toBe(false);
  });
});

describe("expandAllowlist", () => {
  it("replaces @agent by the preset's hosts and @npm by the registry, each host once", () => {
    expect(expandAllowlist(["@agent", "@npm", "API.anthropic.com"], PRESETS.claude.networkHosts)).toEqual([
      "api.anthropic.com",
      "statsig.anthropic.com",
      "sentry.io",
      "registry.npmjs.org",
    ]);
  });

  it("gives @agent nothing for agents that need no network", () => {
    expect(egressPolicy({ allow: ["@agent"] }, PRESETS.scripted.networkHosts)).toEqual({ kind: "allow", hosts: [] });
  });

  it("refuses an alias it does not know, naming the valid ones", () => {
    expect(() => expandAllowlist(["@pypi"], [])).toThrow(/unknown alias "@pypi"/);
  });
});

describe("container.network in .cspace.json", () => {
  const resolve = (network: unknown) =>
    resolveConfig({ files: [{ source: ".cspace.json", value: { container: { network } } }], env: {}, defaultProjectName: "demo" }).container.network;
  const plain = (network: unknown) =>
    resolvePlainConfig({ files: [{ source: ".cspace.json", value: { container: { network } } }], env: {}, defaultProjectName: "demo" })?.container.network;

  it('is "open" when not set', () => {
    expect(resolveConfig({ files: [], env: {}, defaultProjectName: "demo" }).container.network).toBe("open");
  });

  it.each([["open"], ["none"], [{ allow: ["@agent", "@npm", "*.githubusercontent.com", "10.0.0.1", "::1"] }]])("takes %j", (network) => {
    expect(resolve(network)).toEqual(network);
    expect(plain(network)).toEqual(network);
  });

  it.each([
    ["closed", /container\.network: got "closed" — expected "open", "none" or \{"allow"/],
    [{ allow: [] }, /container\.network\.allow: got a list \[\] — expected a list of at least one host name/],
    [{ allow: ["@pypi"] }, /container\.network\.allow\[0\]: got "@pypi" — expected a host name .* or one of "@agent", "@npm"/],
    [{ allow: ["http://x.example"] }, /container\.network\.allow\[0\]: .* — expected a host name/],
    [{ allow: ["*"] }, /— expected a host name/],
    [{ allowed: ["x.example"] }, /container\.network/],
  ])("refuses %j, saying what is valid", (network, message) => {
    expect(plain(network)).toBeUndefined();
    expect(() => resolve(network)).toThrow(message);
  });
});
