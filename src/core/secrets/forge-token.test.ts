import { describe, expect, it } from "vitest";
import { userErrorFrom } from "../../../test/support/errors.ts";
import { envMapLeaks, exposedConfigDir, forgeSecretsFrom, ghConfigDirs, holdsToken, keySegment, refuseLeaks } from "./forge-token.ts";

const TOKEN = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";

describe("forgeSecretsFrom", () => {
  it("knows every token variable's value, trimmed, and values found elsewhere", () => {
    const secrets = forgeSecretsFrom({ GITHUB_ENTERPRISE_TOKEN: ` ${TOKEN}\n`, OTHER: "not-a-token-at-all" }, ["gho_fromghauthtoken"]);
    expect(secrets.values).toEqual([TOKEN, "gho_fromghauthtoken"]);
    expect(holdsToken(`Authorization: token ${TOKEN}`, secrets)).toBe(true);
  });

  it("does not search for placeholders so short they would match ordinary text", () => {
    const secrets = forgeSecretsFrom({ GH_TOKEN: "x", GITHUB_TOKEN: "" });
    expect(secrets.values).toEqual([]);
    expect(holdsToken("xylophone", secrets)).toBe(false);
  });
});

describe("gh's credentials folder", () => {
  it("is GH_CONFIG_DIR, $XDG_CONFIG_HOME/gh and ~/.config/gh, absolute ones only", () => {
    expect(ghConfigDirs({ GH_CONFIG_DIR: "/etc/gh", XDG_CONFIG_HOME: "/x/conf", HOME: "/home/ada" })).toEqual(["/etc/gh", "/x/conf/gh", "/home/ada/.config/gh"]);
    expect(ghConfigDirs({ GH_CONFIG_DIR: "rel", HOME: "/home/ada" })).toEqual(["/home/ada/.config/gh"]);
  });

  it.each([
    ["/home/ada/.config/gh", true],
    ["/home/ada/.config/gh/", true],
    ["/home/ada/.config/gh/hosts.yml", true],
    ["/home/ada/.config", true],
    ["/", true],
    ["/home/ada/.config/ghost", false],
    ["/home/ada/src/app", false],
  ])("a bind of %s exposes it: %s", (source, exposes) => {
    const secrets = forgeSecretsFrom({ HOME: "/home/ada" });
    expect(exposedConfigDir(source, secrets) !== null).toBe(exposes);
  });
});

describe("a config's environment map", () => {
  it("is refused by name or by value, naming the key and never the value", () => {
    const secrets = forgeSecretsFrom({ GH_TOKEN: TOKEN });
    const leaks = envMapLeaks(".cspace.json", "container.env", { GH_TOKEN: "", "odd key": TOKEN, FINE: "1" }, secrets);
    expect(leaks.map((leak) => leak.key)).toEqual(["container.env.GH_TOKEN", 'container.env["odd key"]']);
    const error = userErrorFrom(() => { refuseLeaks(leaks); });
    expect(error.message).toContain("(2 problems)");
    expect(error.message).not.toContain(TOKEN);
    expect(error.hint).toMatch(/on the host/);
  });

  it("passes when nothing leaks", () => {
    expect(() => { refuseLeaks([]); }).not.toThrow();
    expect(keySegment(3)).toBe("[3]");
  });
});
