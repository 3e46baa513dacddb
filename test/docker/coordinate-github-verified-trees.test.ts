import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import type { CoordinatorEvent, CoordinatorEventType } from "../../src/core/coordinator/events.ts";
import { makeGithubProject, type GithubProject, type GithubProjectOptions } from "../support/coordinate-github.ts";
import { explain, rowOf } from "../support/coordinate-project.ts";
import { testDocker } from "../support/docker.ts";

/**
 * Only verified trees land, on GitHub (the simulator): the scenario of
 * coordinate-verified-trees.test.ts, judged by the simulator's repository:
 * every commit the run put on main, checked out alone, passes verify, and
 * each squash commit's tree is the tree that was verified (no
 * `LandingMismatched`: the run compares them after every merge).
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function project(options: GithubProjectOptions): Promise<GithubProject> {
  const made = await makeGithubProject(docker, runId, options);
  cleanups.push(() => made.remove());
  return made;
}

const CHECK = [
  "#!/bin/sh",
  "for f in callers/*.txt; do",
  '  [ -e "$f" ] || continue',
  '  name=$(cat "$f")',
  '  grep -qx "$name" names.txt || { echo "$f calls $name, which names.txt does not define"; exit 1; }',
  "done",
  "",
].join("\n");

const RETRY = ["# Issue #{{issue.number}}, attempt {{attempt}}", "", "cspace-script: rebase {{baseBranch}}", "cspace-script: commit callers/hello.txt welcome", ""].join("\n");

function ofType<T extends CoordinatorEventType>(stdout: string, type: T): Extract<CoordinatorEvent, { type: T }>[] {
  return stdout
    .split("\n")
    .filter((line) => line.startsWith('{"kind":"event"'))
    .map((line) => (JSON.parse(line) as { event: CoordinatorEvent }).event)
    .filter((event): event is Extract<CoordinatorEvent, { type: T }> => event.type === type);
}

/** Each commit's files written out from the simulator's repository, then `command` run there: its exit code. */
async function verifyEachCommit(p: GithubProject, command: string): Promise<number[]> {
  const shas = p.git("rev-list", "--reverse", `${p.repo.head}..main`).split("\n").filter((sha) => sha !== "");
  const codes: number[] = [];
  for (const sha of shas) {
    const dir = await mkdtemp(path.join(tmpdir(), "cspace-verify-commit-"));
    try {
      for (const file of p.git("ls-tree", "-r", "--name-only", sha).split("\n")) {
        await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
        await writeFile(path.join(dir, file), `${p.git("show", `${sha}:${file}`)}\n`);
      }
      try {
        execFileSync("sh", ["-c", command], { cwd: dir, stdio: "pipe" });
        codes.push(0);
      } catch (error) {
        codes.push((error as { status?: number }).status ?? -1);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return codes;
}

describe("only verified trees land, on GitHub (the simulator)", () => {
  it("a semantic conflict between two independent issues: the second is sent back with what changed underneath, merges next, and each squash tree is the verified one", async () => {
    const p = await project({
      name: "vtgh-semantic",
      coordinator: { maxAttempts: 2 },
      verify: { all: "sh check.sh" },
      files: { "check.sh": CHECK, "names.txt": "greet\n", ".cspace/templates/retry.md.hbs": RETRY },
      issues: [
        { number: 70, title: "Rename greet to welcome", body: "cspace-script: commit names.txt welcome" },
        { number: 71, title: "Add a caller of greet", body: "cspace-script: commit callers/hello.txt greet" },
      ],
    });
    const run = await p.coordinate([70, 71], 240_000);
    expect(run.status, explain(run)).toBe(0);

    expect(await verifyEachCommit(p, "sh check.sh")).toEqual([0, 0]);
    const failed = ofType(run.stdout, "LandingFailed");
    expect(failed).toHaveLength(1);
    const second = failed[0]?.issue ?? 0;
    const retried = ofType(run.stdout, "Retried").find((event) => event.issue === second);
    expect(retried?.failure.output).toContain("What changed underneath");
    expect(rowOf(run.report, second).attempts).toBe(2);
    // The trees were compared after each merge, and matched.
    expect(ofType(run.stdout, "LandingMismatched")).toEqual([]);
    const verified = new Set(ofType(run.stdout, "LandingVerified").map((event) => event.tree));
    for (const merged of ofType(run.stdout, "Merged")) expect(verified).toContain(p.git("rev-parse", `${merged.squashSha}^{tree}`));
  }, 300_000);
});
