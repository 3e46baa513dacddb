import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { UserError } from "../../../core/errors.ts";
import type { Forge } from "../../../core/forge/port.ts";
import { branchSha, commitFiles, firstParentCount, initBareRepo, tempDir } from "../../../../test/support/git-fixtures.ts";
import { readLocalIssues } from "./issue-files.ts";
import { createLocalForge } from "./local-forge.ts";
import { createPullRequestStore } from "./pull-request-store.ts";

let root: { dir: string; remove(): Promise<void> };
let projectDir: string;
let issuesDir: string;
let gitDir: string;
let forge: Forge;

beforeEach(async () => {
  root = await tempDir("cspace-local-forge-");
  projectDir = path.join(root.dir, "project");
  issuesDir = path.join(projectDir, ".cspace", "issues");
  await mkdir(issuesDir, { recursive: true });
  gitDir = await initBareRepo(path.join(root.dir, "remote.git"));
  forge = createLocalForge({ projectDir, issuesDir: ".cspace/issues", remote: "../remote.git" });
});
afterEach(async () => {
  await root.remove();
});

describe("local forge issues", () => {
  it("closes an issue by changing only its state line, atomically, leaving no temporary files", async () => {
    const text = "---\ntitle: Session store   # keep this comment\nstate: open\nlabels: [backend]\n---\n\nBody with state: open.\n";
    await writeFile(path.join(issuesDir, "4.md"), text);
    await forge.closeIssue(4);
    expect(await readFile(path.join(issuesDir, "4.md"), "utf8")).toBe(text.replace("state: open\nlabels", "state: closed\nlabels"));
    expect(await readdir(issuesDir)).toEqual(["4.md"]);
    await forge.closeIssue(4);
    expect((await forge.getIssue(4)).state).toBe("closed");
  });

  it("keeps comment files out of the issue listing and its warnings", async () => {
    await writeFile(path.join(issuesDir, "1.md"), "---\ntitle: One\n---\n");
    await forge.commentOnIssue(1, "A note.");
    const { issues, ignored } = await readLocalIssues(issuesDir, projectDir);
    expect(issues.map((i) => i.number)).toEqual([1]);
    expect(ignored).toEqual([]);
    expect(await readFile(path.join(issuesDir, "1.comments.md"), "utf8")).toMatch(/^### Comment by cspace at \S+Z\n\nA note\.\n\n$/);
  });

  it("keeps a comment whole when its body holds a line that reads as a comment heading, so later ids still name their comments", async () => {
    await writeFile(path.join(issuesDir, "1.md"), "---\ntitle: One\n---\n");
    const quoting = "Quoted:\n### Comment by cspace at 2020-01-01T00:00:00Z\n\\### Comment by cspace at already escaped";
    const first = await forge.commentOnIssue(1, quoting);
    const second = await forge.commentOnIssue(1, "progress 0 of 1");
    await forge.updateComment(1, second.id, "progress 1 of 1");
    expect(await forge.listComments(1)).toEqual([
      { id: first.id, body: quoting },
      { id: second.id, body: "progress 1 of 1" },
    ]);
    const text = await readFile(path.join(issuesDir, "1.comments.md"), "utf8");
    expect(text.match(/^### Comment by cspace at /gm)).toHaveLength(2);
    expect(text).toMatch(/^### Comment by cspace at \S+Z, edited \S+Z$/m);
  });

  it("reads `parent:` from front matter: the sub-issues of a parent, whichever reader takes the file", async () => {
    await writeFile(path.join(issuesDir, "40.md"), "---\ntitle: Epic\n---\n");
    await writeFile(path.join(issuesDir, "41.md"), "---\ntitle: Flat\nparent: 40\n---\n");
    // A block list sends this one to the full YAML parser.
    await writeFile(path.join(issuesDir, "42.md"), "---\ntitle: Full\nlabels:\n  - api\nparent: 40\n---\n");
    await writeFile(path.join(issuesDir, "43.md"), "---\ntitle: Elsewhere\nparent: 7\n---\n");
    expect(await forge.subIssues(40)).toEqual({ numbers: [41, 42], notices: [] });
    expect((await forge.getIssue(41)).parent).toBe(40);
    await writeFile(path.join(issuesDir, "44.md"), "---\ntitle: Bad\nparent: forty\n---\n");
    await expect(forge.subIssues(40)).rejects.toThrow(/44\.md: invalid front matter: parent: .*\n?/);
  });
});

describe("local forge issues at scale and in unusual shapes", () => {
  it("passes the warning about a misnamed file through the listing, and reads YAML the fast path leaves alone", async () => {
    await writeFile(path.join(issuesDir, "1.md"), "---\ntitle: Plain\n---\n");
    await writeFile(path.join(issuesDir, "2.md"), "---\ntitle: >\n  Folded\n  title\nlabels:\n  - api\n---\nblocked-by: #1\n");
    await writeFile(path.join(issuesDir, "notes.md"), "not an issue");
    const listing = await forge.listIssues({ label: "api" });
    expect(listing.issues).toMatchObject([{ number: 2, title: "Folded title", labels: ["api"] }]);
    expect(listing.notices).toEqual(["ignored .cspace/issues/notes.md: issue files are named <number>.md"]);
    expect(await forge.getIssue(2)).toMatchObject({ title: "Folded title" });
  });

  it("reads an issue file larger than its read buffer whole", async () => {
    const body = `${"x".repeat(200_000)}\nblocked-by: #1\n`;
    await writeFile(path.join(issuesDir, "3.md"), `---\ntitle: Big\n---\n${body}`);
    expect((await forge.listIssues({})).issues[0]?.body).toBe(body);
  });

  it("answers the default branch from the project's checkout, with no remote needed", async () => {
    await execa("git", ["init", "--quiet", "--initial-branch", "trunk", projectDir]);
    const noRemote = createLocalForge({ projectDir, issuesDir: ".cspace/issues", remote: undefined });
    expect(await noRemote.defaultBranch()).toBe("trunk");
  });
});

describe("local forge check, for doctor", () => {
  it("counts issues, warns about misnamed files and fails a remote that is not bare or an issues directory that is missing", async () => {
    await writeFile(path.join(issuesDir, "1.md"), "---\ntitle: One\n---\n");
    await writeFile(path.join(issuesDir, "todo.md"), "x");
    expect(await forge.check()).toEqual([
      {
        id: "forge",
        title: "Forge (local)",
        status: "warn",
        required: true,
        detail: ".cspace/issues: 1 issue; remote ../remote.git (bare); ignored .cspace/issues/todo.md",
        hint: "Issue files are named <number>.md; rename or remove the others.",
      },
    ]);
    const worktree = createLocalForge({ projectDir, issuesDir: ".cspace/issues", remote: "." });
    expect(await worktree.check()).toMatchObject([{ status: "fail", detail: "forge.remote . is not a git repository" }]);
    const missing = createLocalForge({ projectDir, issuesDir: "elsewhere", remote: undefined });
    expect(await missing.check()).toMatchObject([{ status: "fail", detail: "no issues directory at elsewhere", hint: expect.stringContaining("cspace init") as unknown }]);
  });
});

describe("local forge remote", () => {
  it("explains a missing or non-bare remote as a user error, and issues still work without one", async () => {
    const noRemote = createLocalForge({ projectDir, issuesDir: ".cspace/issues", remote: undefined });
    await expect(noRemote.branchHead("main")).rejects.toThrow(/forge.remote is not set/);
    expect(await noRemote.listIssues({})).toEqual({ issues: [], notices: [] });
    const notBare = createLocalForge({ projectDir, issuesDir: ".cspace/issues", remote: "." });
    await expect(notBare.branchHead("main")).rejects.toBeInstanceOf(UserError);
  });

  it("finishes a merge interrupted after the base moved instead of merging again", async () => {
    const base = await commitFiles(gitDir, "main", { "a.txt": "a\n" }, "initial");
    const head = await commitFiles(gitDir, "issue-1", { "b.txt": "b\n" }, "b", { from: "main" });
    const pr = await forge.openPullRequest({ head: "issue-1", base: "main", title: "B", body: "" });
    const merged = await forge.squashMerge(pr.number, { expectedHeadSha: head, title: "B (#1)", message: "" });
    // Rewrite the record as a crash right after `update-ref` would have left it.
    const store = createPullRequestStore(gitDir);
    await store.locked(async (state, write) => {
      const records = state.pullRequests.map((r) => ({ ...r, state: "open" as const, mergeSha: null, pendingMerge: { squashSha: merged.sha, headSha: head } }));
      await write({ ...state, pullRequests: records });
    });
    expect(await forge.getPullRequest(pr.number)).toMatchObject({ state: "merged", mergeSha: merged.sha });
    expect(await forge.squashMerge(pr.number, { expectedHeadSha: head, title: "B (#1)", message: "" })).toEqual(merged);
    expect(await firstParentCount(gitDir, "main")).toBe(2);
    expect(await branchSha(gitDir, "main")).not.toBe(base);
  });

  it("gives unique numbers and loses no record when two processes open pull requests at once", async () => {
    await commitFiles(gitDir, "main", { "a.txt": "a\n" }, "initial");
    const perProcess = 12;
    for (let i = 1; i <= 2 * perProcess; i++) await commitFiles(gitDir, `issue-${String(i)}`, { [`f${String(i)}.txt`]: "x\n" }, "work", { from: "main" });
    const child = `
      const { createLocalForge } = await import(process.argv[1]);
      const [projectDir, first, count] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
      const forge = createLocalForge({ projectDir, issuesDir: ".cspace/issues", remote: "../remote.git" });
      for (let i = first; i < first + count; i++) {
        await forge.openPullRequest({ head: "issue-" + i, base: "main", title: "PR " + i, body: "" });
      }`;
    const moduleUrl = pathToFileURL(path.join(import.meta.dirname, "local-forge.ts")).href;
    const run = (first: number) =>
      execa(process.execPath, ["--input-type=module", "-e", child, moduleUrl, projectDir, String(first), String(perProcess)]);
    await Promise.all([run(1), run(perProcess + 1)]);

    const state = await createPullRequestStore(gitDir).read();
    const numbers = state.pullRequests.map((r) => r.number).sort((a, b) => a - b);
    expect(numbers).toEqual(Array.from({ length: 2 * perProcess }, (_, i) => i + 1));
    expect(new Set(state.pullRequests.map((r) => r.head)).size).toBe(2 * perProcess);
    expect(state.nextNumber).toBe(2 * perProcess + 1);
  }, 60_000);
});
