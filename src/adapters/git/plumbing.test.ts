import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { commitFiles, expectedMergeTree, initBareRepo, tempDir } from "../../../test/support/git-fixtures.ts";
import { assertSha, isAncestor, mergeTree, resolveCommit, updateRef, ZERO_OID } from "./plumbing.ts";

let root: { dir: string; remove(): Promise<void> };
let gitDir: string;
beforeEach(async () => {
  root = await tempDir("cspace-plumbing-");
  gitDir = await initBareRepo(path.join(root.dir, "r.git"));
});
afterEach(async () => {
  await root.remove();
});

describe("mergeTree", () => {
  it("gives the merged tree of a clean merge, the one git merge-tree writes", async () => {
    await commitFiles(gitDir, "main", { "a.txt": "a\n" }, "initial");
    const head = await commitFiles(gitDir, "topic", { "b.txt": "b\n" }, "b", { from: "main" });
    const base = await commitFiles(gitDir, "main", { "c.txt": "c\n" }, "c");
    expect(await mergeTree(gitDir, base, head)).toEqual({ kind: "clean", tree: await expectedMergeTree(gitDir, base, head) });
  });

  it("lists every conflicting path once, including odd names", async () => {
    const odd = "dir with space/ünïcode\tname.txt";
    await commitFiles(gitDir, "main", { "a.txt": "a\n", [odd]: "o\n" }, "initial");
    const head = await commitFiles(gitDir, "topic", { "a.txt": "topic\n", [odd]: "topic\n" }, "t", { from: "main" });
    const base = await commitFiles(gitDir, "main", { "a.txt": "main\n", [odd]: "main\n" }, "m");
    expect(await mergeTree(gitDir, base, head)).toEqual({ kind: "conflict", paths: ["a.txt", odd] });
  });

  it("reports unrelated histories as a conflict", async () => {
    const base = await commitFiles(gitDir, "main", { "a.txt": "a\n" }, "initial");
    const head = await commitFiles(gitDir, "other", { "b.txt": "b\n" }, "root", { from: null });
    await expect(isAncestor(gitDir, base, head)).resolves.toBe(false);
    expect((await mergeTree(gitDir, base, head)).kind).toBe("conflict");
  });
});

describe("refs", () => {
  it("updates a ref only from the expected value", async () => {
    const one = await commitFiles(gitDir, "main", { "a.txt": "a\n" }, "initial");
    const two = await commitFiles(gitDir, "main", { "a.txt": "b\n" }, "second");
    expect(await updateRef(gitDir, "refs/heads/x", one, ZERO_OID)).toBe(true);
    expect(await updateRef(gitDir, "refs/heads/x", two, ZERO_OID)).toBe(false);
    expect(await updateRef(gitDir, "refs/heads/x", two, two)).toBe(false);
    expect(await resolveCommit(gitDir, "refs/heads/x")).toBe(one);
    expect(await updateRef(gitDir, "refs/heads/x", two, one)).toBe(true);
    expect(await resolveCommit(gitDir, "refs/heads/nope")).toBeNull();
  });

  it("refuses anything but a full sha before it reaches git", () => {
    expect(() => assertSha("--upload-pack=x", "sha")).toThrow(/not a full commit sha/);
    expect(() => assertSha("HEAD", "sha")).toThrow(/not a full commit sha/);
  });
});
