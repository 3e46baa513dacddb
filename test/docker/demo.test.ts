import { execFileSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { LABELS } from "../../src/core/instances/labels.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { testDocker } from "../support/docker.ts";

/** `cspace demo` end to end: judged by the generated remote's history, never by log text. */

const docker = testDocker();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("cspace demo", () => {
  it("merges the seven generated issues: dependencies first, the same-line pair rebased, no branch left, instances removed", async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "cspace-demo-test-"));
    const dir = path.join(root, "demo");
    const env = { CSPACE_RUN_DIR: path.join(root, "run"), CSPACE_DATA_DIR: path.join(root, "data") };
    const projectIdOf = async (): Promise<string> => {
      const config = JSON.parse(await readFile(path.join(dir, "project", ".cspace.json"), "utf8")) as { project: { name: string } };
      return projectId(config.project.name, path.join(dir, "project"));
    };
    cleanups.push(async () => {
      const id = await projectIdOf().catch(() => null);
      if (id !== null) {
        const left = await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`] } });
        await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true })));
      }
      await rm(root, { recursive: true, force: true });
    });

    const run = await runCliAsync(["demo", "--dir", dir], { env, timeoutMs: 840_000 });
    expect(run.status, run.stderr.slice(-4000)).toBe(0);

    const remote = path.join(dir, "remote.git");
    const git = (...args: string[]): string => execFileSync("git", ["--git-dir", remote, ...args], { encoding: "utf8" }).trim();
    const subjects = git("log", "--format=%s", "main").split("\n").reverse();
    expect(subjects).toHaveLength(8);
    const at = (title: string): number => subjects.findIndex((s) => s.startsWith(title));
    const titles = ["Add the settings file", "Read the settings at start-up", "Validate the settings", "Reload the settings on change", "Write the changelog", "Greet in English", "Greet in French"];
    for (const title of titles) expect(at(title), title).toBeGreaterThan(0);
    expect(at("Read the settings at start-up")).toBeGreaterThan(at("Add the settings file"));
    expect(at("Validate the settings")).toBeGreaterThan(at("Add the settings file"));
    expect(at("Reload the settings on change")).toBeGreaterThan(at("Read the settings at start-up"));
    expect(at("Reload the settings on change")).toBeGreaterThan(at("Validate the settings"));
    expect(git("rev-list", "--merges", "main")).toBe("");
    expect(git("ls-tree", "--name-only", "main").split("\n")).toEqual(expect.arrayContaining(["settings.txt", "startup.txt", "validate.txt", "reload.txt", "CHANGELOG.txt", "greeting.txt"]));
    // The pair wrote the same line: the one merged second was rebased keeping its own side, so its text is what main has.
    const second = at("Greet in French") > at("Greet in English") ? "bonjour" : "hello";
    expect(git("show", "main:greeting.txt")).toBe(second);
    expect(git("for-each-ref", "--format=%(refname:short)", "refs/heads/")).toBe("main");

    const records = JSON.parse(await readFile(path.join(remote, "cspace", "pull-requests.json"), "utf8")) as { pullRequests: { head: string; state: string }[] };
    expect(records.pullRequests.filter((pr) => pr.state === "merged").map((pr) => pr.head).sort()).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => `issue-${String(n)}`).sort());
    // Removed at the end: the demo's instances are throwaway.
    expect(await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${await projectIdOf()}`] } })).toEqual([]);
  }, 900_000);
});
