import { execFileSync } from "node:child_process";
import { appendFile, mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../../test/support/temp-dirs.ts";
import { STORE_IN_CONTAINER } from "../../core/instances/ports.ts";
import { GitWorkspaces } from "./workspaces.ts";

const tempDir = useTempDirs("workspaces");

async function repoWithBranches(dir: string, branches: number): Promise<string> {
  const git = (...args: string[]): string => execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();
  git("init", "--quiet", "--initial-branch=main");
  for (let i = 0; i < branches; i++) {
    await writeFile(path.join(dir, `f${String(i)}`), String(i));
    git("add", "-A");
    git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "--quiet", "-m", `c${String(i)}`);
    git("branch", `b${String(i)}`);
  }
  return git("rev-parse", "main");
}

// Real git processes by the dozen: generous under a loaded machine.
describe("GitWorkspaces' shared object store", { timeout: 30_000 }, () => {
  it("is filled by several cspace processes at once without git lock failures", async () => {
    const root = await tempDir();
    const project = path.join(root, "repo");
    await mkdir(project);
    const head = await repoWithBranches(project, 20);
    // One GitWorkspaces per process: each only queues its own fetches, so these four race as four processes would.
    const processes = Array.from({ length: 4 }, () => new GitWorkspaces({ projectDir: project, dataDir: path.join(root, "data"), projectId: "p" }));
    const resolved = await Promise.allSettled(processes.flatMap((w) => [w.resolveBase("main"), w.resolveBase("b7")]));
    const failures = resolved.flatMap((r) => (r.status === "rejected" ? [String(r.reason)] : []));
    expect(failures).toEqual([]);
    expect(resolved.map((r) => (r.status === "fulfilled" ? r.value : null)).filter((sha) => sha === head)).toHaveLength(4);
    const first = processes[0];
    if (first === undefined) throw new Error("no workspaces");
    const made = await first.create("w1", "main", head);
    expect(execFileSync("git", ["rev-parse", "HEAD"], { cwd: made.path, encoding: "utf8" }).trim()).toBe(head);
  });
});

describe("GitWorkspaces' checkouts", { timeout: 30_000 }, () => {
  it("share no object file with the store: they borrow its objects where the container mounts it read-only", async () => {
    const root = await tempDir();
    const project = path.join(root, "repo");
    await mkdir(project);
    const head = await repoWithBranches(project, 3);
    execFileSync("git", ["-C", project, "config", "user.name", "Ada Lovelace"]);
    execFileSync("git", ["-C", project, "config", "user.email", "ada@example.invalid"]);
    const workspaces = new GitWorkspaces({ projectDir: project, dataDir: path.join(root, "data"), projectId: "p" });
    const made = await workspaces.create("w1", "main", await workspaces.resolveBase("main"));
    expect(made.supportMounts).toEqual([{ source: workspaces.storePath, target: STORE_IN_CONTAINER }]);
    expect(await readFile(path.join(made.path, ".git", "objects", "info", "alternates"), "utf8")).toBe(`${STORE_IN_CONTAINER}/objects\n`);
    // Root in a container writes any file of its mount: not one inode of the checkout's objects may be the store's.
    const storeInodes = new Set((await filesUnder(workspaces.storePath)).map((f) => f.ino));
    expect((await filesUnder(path.join(made.path, ".git", "objects"))).filter((f) => storeInodes.has(f.ino))).toEqual([]);

    // As the container sees it: the store's objects at the mount (here passed to git as the container's path would resolve).
    const git = (...args: string[]): string =>
      execFileSync("git", args, { cwd: made.path, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...workspaces.storeEnvironment() } }).trim();
    expect(git("log", "-1", "--format=%H")).toBe(head);
    expect(git("status", "--porcelain")).toBe("");
    await writeFile(path.join(made.path, "new.txt"), "new\n");
    git("add", "new.txt");
    git("commit", "--quiet", "-m", "inside");
    expect(git("rev-list", "--count", "HEAD")).toBe("4");
    expect(git("fsck", "--no-dangling")).toBe("");
    // Made with the user's identity, on the instance's branch, remembering its base.
    expect(git("log", "-1", "--format=%an <%ae>")).toBe("Ada Lovelace <ada@example.invalid>");
    expect(git("branch", "--show-current")).toBe("w1");
    expect(git("config", "cspace.base")).toBe("main");
    // What the checkout wrote is its own: rewriting every object file of it leaves the store whole.
    for (const file of await filesUnder(path.join(made.path, ".git", "objects"))) await appendFile(file.path, "tampered");
    expect(execFileSync("git", ["--git-dir", workspaces.storePath, "fsck", "--no-dangling"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim()).toBe("");
  });
});

describe("GitWorkspaces and a checkout an older cspace made (clone --local)", { timeout: 30_000 }, () => {
  it("counts the object files it shares with the store, and borrowStore moves it onto the store's mount keeping its own commits", async () => {
    const root = await tempDir();
    const project = path.join(root, "repo");
    await mkdir(project);
    const head = await repoWithBranches(project, 3);
    const workspaces = new GitWorkspaces({ projectDir: project, dataDir: path.join(root, "data"), projectId: "p" });
    await workspaces.resolveBase("main");
    // As the version before made it: hard links to the store's object files, origin at the store's mount.
    const dir = workspaces.pathOf("w1");
    await mkdir(path.dirname(dir), { recursive: true });
    execFileSync("git", ["clone", "--quiet", "--local", "--no-checkout", workspaces.storePath, dir]);
    const git = (...args: string[]): string =>
      execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.invalid", ...args], { cwd: dir, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...workspaces.storeEnvironment() } }).trim();
    git("checkout", "--quiet", "-B", "w1", head);
    // An agent's commit, in the checkout's own objects only.
    await writeFile(path.join(dir, "agent.txt"), "work\n");
    git("add", "agent.txt");
    git("commit", "--quiet", "-m", "the agent's work");
    const agentHead = git("rev-parse", "HEAD");
    const shared = await workspaces.sharedObjectFiles("w1");
    expect(shared).toBeGreaterThan(0);
    expect(await workspaces.sharedObjectFiles("none")).toBe(0);

    await workspaces.borrowStore("w1");
    expect(await workspaces.sharedObjectFiles("w1")).toBe(0);
    const storeInodes = new Set((await filesUnder(workspaces.storePath)).map((f) => f.ino));
    expect((await filesUnder(path.join(dir, ".git", "objects"))).filter((f) => storeInodes.has(f.ino))).toEqual([]);
    expect(await readFile(path.join(dir, ".git", "objects", "info", "alternates"), "utf8")).toBe(`${STORE_IN_CONTAINER}/objects\n`);
    // Everything is still there: the agent's commit from the checkout, the rest borrowed from the store.
    expect(git("rev-parse", "HEAD")).toBe(agentHead);
    expect(git("fsck", "--no-dangling")).toBe("");
    expect(git("show", "HEAD:agent.txt")).toBe("work");
    expect(execFileSync("git", ["--git-dir", workspaces.storePath, "fsck", "--no-dangling"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim()).toBe("");
  });

  it("never follows a link the agent put in place of .git/objects", async () => {
    const root = await tempDir();
    const project = path.join(root, "repo");
    await mkdir(project);
    await repoWithBranches(project, 1);
    const workspaces = new GitWorkspaces({ projectDir: project, dataDir: path.join(root, "data"), projectId: "p" });
    await workspaces.resolveBase("main");
    const dir = workspaces.pathOf("w1");
    await mkdir(path.join(dir, ".git"), { recursive: true });
    // The store's own objects, linked from elsewhere (another checkout): through the link they would count, and be unlinked.
    execFileSync("git", ["clone", "--quiet", "--local", "--bare", workspaces.storePath, path.join(root, "other.git")]);
    await symlink(path.join(root, "other.git", "objects"), path.join(dir, ".git", "objects"));
    expect(await workspaces.sharedObjectFiles("w1")).toBe(0);
    const before = (await filesUnder(workspaces.storePath)).length;
    await workspaces.borrowStore("w1");
    expect((await filesUnder(workspaces.storePath)).length).toBe(before);
    expect((await filesUnder(path.join(root, "other.git", "objects"))).some((f) => f.path.endsWith("alternates"))).toBe(false);
  });
});

async function filesUnder(dir: string): Promise<{ path: string; ino: number }[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  const files = entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
  return Promise.all(files.map(async (file) => ({ path: file, ino: (await stat(file)).ino })));
}
