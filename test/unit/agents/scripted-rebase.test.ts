import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ofType, runScripted } from "./run-scripted.ts";
import { testWorkspace, type TestWorkspace } from "./workspace.ts";

let ws: TestWorkspace;
beforeEach(() => (ws = testWorkspace()));
afterEach(() => {
  ws.remove();
});

const read = (file: string) => readFileSync(path.join(ws.cwd, file), "utf8");
const write = (file: string, text: string) => {
  writeFileSync(path.join(ws.cwd, file), text);
};
const commitAll = (message: string) => {
  ws.git("add", "--all");
  ws.git("commit", "--quiet", "-m", message);
};

/**
 * main on a remote named `upstream`; the agent's branch issue-12 changes
 * what upstream then changes too, both ways round: edit/edit, edit/delete
 * and delete/edit, in two commits so the rebase stops more than once.
 */
function divergedBranches(): { upstreamTip: string } {
  ws.git("init", "--quiet", "--bare", path.join(ws.root, "upstream.git"));
  ws.git("remote", "add", "upstream", path.join(ws.root, "upstream.git"));
  write("conflict.txt", "base\n");
  write("gone.txt", "base\n");
  write("keep.txt", "base\n");
  commitAll("base");
  ws.git("push", "--quiet", "upstream", "main");

  ws.git("checkout", "--quiet", "-b", "issue-12");
  write("conflict.txt", "agent\n");
  write("gone.txt", "agent change\n");
  commitAll("agent: edit");
  rmSync(path.join(ws.cwd, "keep.txt"));
  write("own.txt", "mine\n");
  commitAll("agent: delete keep, add own");

  ws.git("checkout", "--quiet", "-b", "elsewhere", "main");
  write("conflict.txt", "upstream\n");
  rmSync(path.join(ws.cwd, "gone.txt"));
  write("keep.txt", "upstream change\n");
  write("upstream.txt", "new\n");
  commitAll("upstream moves on");
  ws.git("push", "--quiet", "upstream", "elsewhere:main");
  const upstreamTip = ws.git("rev-parse", "HEAD");
  ws.git("checkout", "--quiet", "issue-12");
  ws.git("branch", "--quiet", "-D", "elsewhere");
  return { upstreamTip };
}

function noRebaseInProgress(): boolean {
  return ["rebase-merge", "rebase-apply"].every((name) => !existsSync(path.join(ws.cwd, ws.git("rev-parse", "--git-path", name))));
}

describe("cspace-script: rebase", () => {
  it("fetches the branch from the named remote and rebases onto it, keeping the agent's side of every conflict", async () => {
    const { upstreamTip } = divergedBranches();
    const run = await runScripted("cspace-script: rebase main", { cwd: ws.cwd, env: ws.env, args: ["--remote", "upstream"] });

    expect(run.code).toBe(0);
    expect(noRebaseInProgress()).toBe(true);
    expect(ws.git("rev-parse", "--abbrev-ref", "HEAD")).toBe("issue-12");
    expect(ws.git("log", "--format=%s", `${upstreamTip}..HEAD`)).toBe("agent: delete keep, add own\nagent: edit");
    expect(ws.git("merge-base", "HEAD", upstreamTip)).toBe(upstreamTip);
    expect(read("conflict.txt")).toBe("agent\n");
    expect(read("gone.txt")).toBe("agent change\n");
    expect(existsSync(path.join(ws.cwd, "keep.txt"))).toBe(false);
    expect(read("own.txt")).toBe("mine\n");
    expect(read("upstream.txt")).toBe("new\n");
    expect(ws.git("status", "--porcelain", "--untracked-files=no")).toBe("");
    expect(ofType(run, "text").map((event) => event.text).join("\n")).toMatch(/rebased onto upstream\/main/);
  });

  it("takes the remote from CSPACE_SCRIPT_REMOTE; a branch the remote lacks fails the run and leaves no rebase behind", async () => {
    divergedBranches();
    const before = ws.git("rev-parse", "HEAD");
    const run = await runScripted("cspace-script: rebase no-such-branch\ncspace-script: commit after.txt x", {
      cwd: ws.cwd,
      env: { ...ws.env, CSPACE_SCRIPT_REMOTE: "upstream" },
    });

    expect(run.code).toBe(1);
    expect(ofType(run, "error").map((event) => event.text).join("\n")).toMatch(/git fetch --quiet upstream no-such-branch failed/);
    expect(ws.git("rev-parse", "HEAD")).toBe(before);
    expect(noRebaseInProgress()).toBe(true);
    expect(ofType(run, "result")[0]).toMatchObject({ is_error: true });
  });
});
