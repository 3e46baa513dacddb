import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { githubRemote } from "../../src/adapters/git/remote/github-remote.ts";
import { createGitBranchMover } from "../../src/adapters/git/remote/git-branch-mover.ts";
import { UserError } from "../../src/core/errors.ts";
import { ForgeUnauthorizedError } from "../../src/core/forge/errors.ts";
import { remoteGitContract } from "./remote-git-contract.ts";
import { githubWorld, type GithubWorld } from "./remote-git-worlds.ts";

remoteGitContract("GitHub (simulator, smart HTTP)", () => githubWorld());

const WRONG = "ghp_wrongwrongwrongwrong";
const basicOf = (token: string) => Buffer.from(`x-access-token:${token}`).toString("base64");

describe("BranchMover on GitHub over HTTPS", () => {
  let gh: GithubWorld;
  beforeEach(async () => {
    gh = await githubWorld();
  });
  afterEach(async () => {
    await gh.teardown();
  });

  it("pushes through git's smart HTTP behind the API's token check", async () => {
    const main = await gh.remoteCommit("main", { "README.md": "hi\n" }, "initial");
    const sha = await gh.workerCommit("issue-1", "issue-1", { "a.txt": "a\n" }, "add a", main);
    await gh.mover.push({ instance: "issue-1", branch: "issue-1", expectedRemoteSha: null });
    expect(await gh.simulator.world.git.resolve("refs/heads/issue-1")).toBe(sha);
    expect(gh.simulator.gitRequests).toContainEqual({ method: "POST", service: "git-receive-pack", status: 200 });
    expect(gh.simulator.gitRequests.every((r) => r.status === 200)).toBe(true);
  });

  it("reports a refused token as ForgeUnauthorizedError, for fetches and pushes, never showing the token", async () => {
    const main = await gh.remoteCommit("main", { "README.md": "hi\n" }, "initial");
    await gh.workerCommit("issue-1", "issue-1", { "a.txt": "a\n" }, "add a", main);
    const wrong = createGitBranchMover({
      remote: githubRemote({ repo: gh.simulator.repo, apiUrl: gh.simulator.url, token: WRONG }),
      store: gh.layout.store,
      scratchDir: gh.layout.scratchDir,
      checkoutOf: gh.layout.checkoutOf,
    });
    for (const attempt of [wrong.fetch(["main"]), wrong.push({ instance: "issue-1", branch: "issue-1", expectedRemoteSha: null })]) {
      const error = await attempt.catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ForgeUnauthorizedError);
      const shown = JSON.stringify({ message: (error as Error).message, hint: (error as ForgeUnauthorizedError).hint, cause: String((error as Error).cause), stack: (error as Error).stack });
      for (const secret of [WRONG, basicOf(WRONG)]) expect(shown).not.toContain(secret);
    }
    expect(gh.simulator.gitRequests.map((r) => r.status)).toContain(401);
    expect(await gh.simulator.world.git.resolve("refs/heads/issue-1")).toBeNull();
  });

  it("asks for the token only when it first talks to the remote, and a missing one is a user error before any request", async () => {
    const remote = githubRemote({ repo: gh.simulator.repo, apiUrl: gh.simulator.url, token: () => Promise.resolve({ found: false, gh: "missing" }) });
    const mover = createGitBranchMover({ remote, store: gh.layout.store, scratchDir: gh.layout.scratchDir, checkoutOf: gh.layout.checkoutOf });
    await expect(mover.fetch(["main"])).rejects.toBeInstanceOf(UserError);
    expect(gh.simulator.gitRequests).toEqual([]);
  });

  it("keeps the token off every command line, out of git config and out of every file", async () => {
    const token = gh.simulator.token;
    const main = await gh.remoteCommit("main", { "README.md": "hi\n" }, "initial");
    await gh.workerCommit("issue-1", "issue-1", { "a.txt": "a\n" }, "add a", main);
    const gate = gh.simulator.gitGate.hold();
    const pushed = gh.mover.push({ instance: "issue-1", branch: "issue-1", expectedRemoteSha: null });
    await gate.arrived;
    const children = await descendants(process.pid);
    gate.release();
    await pushed;

    // git push and its git-remote-http helper were both waiting on the simulator.
    expect(children.map((c) => c.argv[0] ?? "").join(" ")).toMatch(/git/);
    for (const child of children) {
      for (const secret of [token, basicOf(token)]) expect(child.argv.join(" ")).not.toContain(secret);
    }
    // The header travels in the environment of git's own processes, readable only by their user.
    expect(children.some((c) => c.environ.includes(basicOf(token)))).toBe(true);

    for (const file of await filesUnder(gh.layout.root)) {
      const content = await readFile(file, "latin1");
      for (const secret of [token, basicOf(token)]) expect(content.includes(secret), `${file} holds the token`).toBe(false);
    }
  });
});

interface ProcessView {
  readonly pid: number;
  readonly argv: readonly string[];
  readonly environ: string;
}

/** Every live process below `root`, as `ps` and /proc show it. */
async function descendants(root: number): Promise<ProcessView[]> {
  const parents = new Map<number, number>();
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // pid (comm) state ppid …: comm may contain spaces, so read after the last ")".
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (Number.isInteger(ppid)) parents.set(Number(entry), ppid);
  }
  const below = (pid: number): boolean => {
    for (let at = parents.get(pid); at !== undefined && at > 1; at = parents.get(at)) if (at === root) return true;
    return false;
  };
  const views: ProcessView[] = [];
  for (const pid of [...parents.keys()].filter(below)) {
    const argv = (await readFile(`/proc/${String(pid)}/cmdline`, "utf8").catch(() => "")).split("\0").filter((a) => a !== "");
    const environ = await readFile(`/proc/${String(pid)}/environ`, "utf8").catch(() => "");
    views.push({ pid, argv, environ });
  }
  return views;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}
