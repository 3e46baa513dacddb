import { afterEach, describe, expect, inject, it } from "vitest";
import type { CoordinatorEvent } from "../../src/core/coordinator/events.ts";
import { CLAUDE_IMAGE_DEVCONTAINER, claudeImageFiles } from "../support/claude-image.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { makeGithubProject, type GithubProject } from "../support/coordinate-github.ts";
import { explain, rowOf } from "../support/coordinate-project.ts";
import { testDocker } from "../support/docker.ts";

/**
 * The README's "A real run on GitHub with Claude Code", as far as it runs
 * here: the GitHub simulator for GitHub (pushes over HTTPS with the token
 * per command, every request checked against the OpenAPI description), and
 * the Claude Code stand-in for the model (it speaks claude's stream-json and
 * does what each turn's "standin: commit" lines say). Everything between is
 * what a user runs: the claude preset, agent.passEnv, verify.all in the
 * worker, the real engine. Judged by the simulator's repository and records.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("the README's GitHub + Claude Code walkthrough", () => {
  it("takes 10 and 12 (blocked by 10) to squash merges on main with the claude preset, its key passed by name, the forge token in no container", async () => {
    const p: GithubProject = await makeGithubProject(docker, runId, {
      name: "cogh-claude",
      devcontainer: CLAUDE_IMAGE_DEVCONTAINER,
      agent: { preset: "claude", passEnv: ["ANTHROPIC_API_KEY"], env: { CSPACE_STANDIN_LOG: "/tmp/standin.log" } },
      // Green on main (no name.txt yet), so the feature branch is not red at the start; #12's work passes only on top of
      // #10's greeting, so its verify still tells whether it was stacked on #10's real work.
      verify: { all: "test -s greeting.txt || test ! -e name.txt" },
      env: { ANTHROPIC_API_KEY: "sk-ant-standin" },
      files: await claudeImageFiles(runId, { installed: true }),
      issues: [
        { number: 10, title: "Add the greeting", body: "Write a greeting.\n\nstandin: commit greeting.txt hello" },
        { number: 12, title: "Greet by name", body: "Address someone.\n\nstandin: commit name.txt world", blockedBy: [10] },
      ],
    });
    cleanups.push(() => p.remove());

    const run = await p.coordinate([10, 12]);
    expect(run.status, explain(run)).toBe(0);

    expect(p.subjects()).toEqual([expect.stringMatching(/^Add the greeting/), expect.stringMatching(/^Greet by name/)]);
    expect(p.git("show", "main:greeting.txt")).toBe("hello");
    expect(p.git("show", "main:name.txt")).toBe("world");
    expect(p.git("for-each-ref", "--format=%(refname:short)", "refs/heads/")).toBe("main");
    expect(p.pulls()).toEqual([["issue-10", true], ["issue-12", true]]);
    for (const n of [10, 12]) expect(p.simulator.world.issues.get(n)?.state).toBe("closed");
    p.simulator.assertNoViolations();
    // Stacked only on real work: #12 starts once #10's head is pushed and verified, on that very head, so its verify
    // (a greeting, once name.txt exists) sees #10's work and no attempt of #12 is burnt (before, #12 started on an empty issue-10
    // and failed both attempts).
    const events = run.stdout.split("\n").flatMap((line) => (line.startsWith('{"kind":"event"') ? [(JSON.parse(line) as { event: CoordinatorEvent }).event] : []));
    const index = (match: (event: CoordinatorEvent) => boolean): number => events.findIndex(match);
    const tenVerified = index((e) => e.type === "Verified" && e.issue === 10);
    const twelveLaunched = events.find((e): e is Extract<CoordinatorEvent, { type: "Launched" }> => e.type === "Launched" && e.issue === 12 && e.attempt === 1);
    expect(tenVerified, explain(run)).toBeGreaterThan(-1);
    expect(index((e) => e === twelveLaunched)).toBeGreaterThan(tenVerified);
    const tenVerifiedHead = events.find((e): e is Extract<CoordinatorEvent, { type: "Verified" }> => e.type === "Verified" && e.issue === 10)?.headSha;
    if (twelveLaunched?.base === "issue-10") expect(twelveLaunched.baseSha).toBe(tenVerifiedHead);
    expect(rowOf(run.report, 12).failedAttempts).toBe(0);
    // Claude's own accounting reaches the report: its turns and total_cost_usd.
    for (const n of [10, 12]) {
      const row = rowOf(run.report, n);
      expect(row.turns).toBeGreaterThanOrEqual(1);
      expect(row.costUsd).toBeGreaterThan(0);
    }

    // The agent got its key by name, and the forge token reached neither it nor its container.
    const log = await runCliAsync(["--cwd", p.repo.dir, "exec", "issue-12", "--", "cat", "/tmp/standin.log"], { env: p.repo.env });
    const invocations = log.stdout.trim().split("\n").map((line) => JSON.parse(line) as { cli: string; envNames: string[] });
    expect(invocations.length).toBeGreaterThanOrEqual(1);
    for (const invocation of invocations) {
      expect(invocation.cli).toBe("claude");
      expect(invocation.envNames).toContain("ANTHROPIC_API_KEY");
      expect(invocation.envNames).not.toContain("GH_TOKEN");
    }
    const containerEnv = await runCliAsync(["--cwd", p.repo.dir, "exec", "issue-12", "--", "env"], { env: p.repo.env });
    expect(containerEnv.stdout).not.toMatch(/^GH_TOKEN=/m);
    expect(containerEnv.stdout).not.toContain("secret");
  }, 300_000);
});
