import { describe, expect, it } from "vitest";
import { githubGitUrl, githubRemote, tokenAccess } from "../../../src/adapters/git/remote/github-remote.ts";
import { UserError } from "../../../src/core/errors.ts";

describe("githubGitUrl", () => {
  it.each([
    [undefined, "https://github.com/octo/widgets.git"],
    ["https://api.github.com", "https://github.com/octo/widgets.git"],
    ["https://api.github.com/", "https://github.com/octo/widgets.git"],
    ["https://github.example.com/api/v3", "https://github.example.com/octo/widgets.git"],
    ["https://github.example.com/api/v3/", "https://github.example.com/octo/widgets.git"],
    ["https://api.acme.ghe.com", "https://acme.ghe.com/octo/widgets.git"],
    ["http://127.0.0.1:8123", "http://127.0.0.1:8123/octo/widgets.git"],
    ["https://proxy.example.com/github/api/v3", "https://proxy.example.com/github/octo/widgets.git"],
  ])("serves %s's repositories at %s", (apiUrl, expected) => {
    expect(githubGitUrl("octo/widgets", apiUrl)).toBe(expected);
  });

  it("takes the repository's clone_url as given, and refuses a repository that is no owner/name", () => {
    expect(githubRemote({ repo: "octo/widgets", token: "t", url: "https://git.example.com/w.git" }).url).toBe("https://git.example.com/w.git");
    expect(() => githubRemote({ repo: "widgets", token: "t" })).toThrow(UserError);
  });
});

describe("tokenAccess", () => {
  it("hands the token to git as environment config only, resetting the user's helpers and headers", () => {
    const access = tokenAccess("ghp_secret");
    const basic = Buffer.from("x-access-token:ghp_secret").toString("base64");
    expect(access.env).toEqual({
      GIT_CONFIG_COUNT: "3",
      GIT_CONFIG_KEY_0: "credential.helper",
      GIT_CONFIG_VALUE_0: "",
      GIT_CONFIG_KEY_1: "http.extraHeader",
      GIT_CONFIG_VALUE_1: "",
      GIT_CONFIG_KEY_2: "http.extraHeader",
      GIT_CONFIG_VALUE_2: `Authorization: Basic ${basic}`,
      GIT_ASKPASS: "",
      GIT_TRACE_REDACT: "1",
    });
    expect(access.secrets).toEqual(["ghp_secret", basic]);
  });

  it("looks the token up once, and again after a failed lookup", async () => {
    const answers = [{ found: false as const, gh: "logged-out" as const }, { found: true as const, token: "t1", source: "gh auth token" as const }];
    let lookups = 0;
    const remote = githubRemote({ repo: "octo/widgets", token: () => Promise.resolve(answers[lookups++] ?? { found: false, gh: "missing" }) });
    await expect(remote.access()).rejects.toThrow(/no GitHub token to reach octo\/widgets/);
    expect((await remote.access()).secrets[0]).toBe("t1");
    expect((await remote.access()).secrets[0]).toBe("t1");
    expect(lookups).toBe(2);
  });
});
