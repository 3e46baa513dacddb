import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { findGithubToken } from "./token.ts";

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A PATH holding only a `gh` that behaves as given (or no gh at all). */
async function pathWithGh(script?: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "cspace-gh-"));
  dirs.push(dir);
  if (script !== undefined) {
    const gh = path.join(dir, "gh");
    await writeFile(gh, `#!/bin/sh\n${script}\n`);
    await chmod(gh, 0o755);
  }
  return dir;
}

describe("findGithubToken", () => {
  it("prefers GH_TOKEN, then GITHUB_TOKEN, and says which", async () => {
    const PATH = await pathWithGh('echo "from-gh"');
    expect(await findGithubToken({ PATH, GH_TOKEN: "one", GITHUB_TOKEN: "two" })).toEqual({ found: true, token: "one", source: "GH_TOKEN" });
    expect(await findGithubToken({ PATH, GH_TOKEN: " ", GITHUB_TOKEN: "two" })).toEqual({ found: true, token: "two", source: "GITHUB_TOKEN" });
  });

  it("asks gh when neither variable is set", async () => {
    const PATH = await pathWithGh('[ "$1 $2" = "auth token" ] && echo "gho_fromgh"');
    expect(await findGithubToken({ PATH })).toEqual({ found: true, token: "gho_fromgh", source: "gh auth token" });
  });

  it("asks gh for the Enterprise host of the API URL", async () => {
    const PATH = await pathWithGh('echo "token-for-$4"');
    const found = await findGithubToken({ PATH }, "https://github.example.com/api/v3");
    expect(found).toMatchObject({ token: "token-for-github.example.com" });
    expect(await findGithubToken({ PATH }, "https://api.github.com")).toMatchObject({ token: "token-for-" });
  });

  it("reports gh logged out, and tolerates gh not being installed", async () => {
    const loggedOut = await pathWithGh('echo "You are not logged into any GitHub hosts." >&2; exit 1');
    expect(await findGithubToken({ PATH: loggedOut })).toEqual({ found: false, gh: "logged-out" });
    expect(await findGithubToken({ PATH: await pathWithGh() })).toEqual({ found: false, gh: "missing" });
  });
});
