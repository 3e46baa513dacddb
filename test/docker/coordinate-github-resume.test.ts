import { afterEach, describe, expect, inject, it } from "vitest";
import { githubIssue, makeGithubProject, mergedOnceOnGithub, type GithubProject } from "../support/coordinate-github.ts";
import { agentStarts, isEvent, operate, outboxReports, startCoordinator, until, type ScriptedIssue } from "../support/coordinate-run.ts";
import { testDocker } from "../support/docker.ts";

/**
 * coordinate-resume.test.ts on the GitHub simulator: `kill -9` of `cspace
 * coordinate` at chosen moments (picked from its --json event stream), then
 * `cspace coordinate --resume` to the end: the same merged result as an
 * uninterrupted run. The simulator runs in this process, so it outlives the
 * killed coordinator, as GitHub would. Judged by the simulator's bare
 * repository, its pull-request and issue records and `assertNoViolations()`,
 * never by log text.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function project(name: string, issues: readonly ScriptedIssue[]): Promise<GithubProject> {
  const made = await makeGithubProject(docker, runId, { name, issues: issues.map(githubIssue) });
  cleanups.push(() => made.remove());
  return made;
}

async function resumeToEnd(made: GithubProject, issues: readonly ScriptedIssue[]): Promise<void> {
  const resumed = startCoordinator(made, ["--resume"]);
  const stuck = setTimeout(() => void resumed.kill9(), 240_000);
  const { status, signal, stderr } = await resumed.exited.finally(() => { clearTimeout(stuck); });
  const seen = resumed.lines.map((line) => JSON.stringify(line).slice(0, 300)).join("\n");
  expect(status, `${String(signal)}\n${seen}\n${stderr.slice(-4000)}`).toBe(0);
  expect(mergedOnceOnGithub(made, issues)).toEqual([]);
  made.simulator.assertNoViolations();
  for (const issue of issues) expect(await agentStarts(made.paths(`issue-${String(issue.number)}`)), `agent starts of #${String(issue.number)}`).toBe(1);
}

describe("cspace coordinate on GitHub (the simulator) killed with -9, then --resume", () => {
  it("during warm (a Warmed, no Launched yet): resumes to each issue merged once", async () => {
    const issues: ScriptedIssue[] = [
      { number: 10, title: "Add the greeting", path: "greeting.txt", text: "hello" },
      { number: 11, title: "Add the farewell", path: "farewell.txt", text: "goodbye" },
      { number: 12, title: "Greet by name", blockedBy: [10], path: "name.txt", text: "world" },
    ];
    const made = await project("cogh-kill-warm", issues);
    const first = startCoordinator(made, ["10", "11", "12"]);
    await first.waitFor(isEvent("Warmed"));
    await first.kill9();
    expect(first.lines.filter(isEvent("Launched"))).toEqual([]);

    await resumeToEnd(made, issues);
  }, 600_000);

  it("mid-launch: the agents finish without it, their reports wait in the outbox and are collected; none is launched twice", async () => {
    const issues: ScriptedIssue[] = [
      { number: 10, title: "Add the greeting", sleepSeconds: 8, path: "greeting.txt", text: "hello" },
      { number: 11, title: "Add the farewell", sleepSeconds: 8, path: "farewell.txt", text: "goodbye" },
    ];
    const made = await project("cogh-kill-launch", issues);
    const first = startCoordinator(made, ["10", "11"]);
    const launched = await first.waitFor(isEvent("Launched"));
    await first.kill9();
    const issue = launched.event?.issue ?? 0;
    const paths = made.paths(`issue-${String(issue)}`);
    // The coordinator is gone: the agent's report can only go to the outbox.
    await until(async () => (await outboxReports(paths)).length > 0, `a report of #${String(issue)} in its outbox`);

    await resumeToEnd(made, issues);
    expect(await outboxReports(paths)).toEqual([]);
  }, 600_000);

  it("between the merge of 10 and the restack of 12 stacked on it", async () => {
    const issues: ScriptedIssue[] = [
      { number: 10, title: "Add the greeting", sleepSeconds: 8, path: "greeting.txt", text: "hello" },
      { number: 12, title: "Greet by name", blockedBy: [10], sleepSeconds: 1, path: "name.txt", text: "world" },
    ];
    const made = await project("cogh-kill-merge", issues);
    const first = startCoordinator(made, ["10", "12"]);
    // 12 stacks on 10 once 10's work is pushed and verified, and 10 would merge at once after: its merge is held
    // (the operator's pause) until 12 has pushed work on issue-10 of its own, so the kill lands where it is meant to.
    await first.waitFor(isEvent("Launched", 10));
    await operate(made, "pause 10");
    await first.waitFor(isEvent("Pushed", 12));
    await operate(made, "resume 10");
    await first.waitFor(isEvent("Merged", 10));
    await first.kill9();
    // The moment is the one meant: 12 was stacked, pushed, and not yet restacked onto the squash.
    expect(first.lines.some(isEvent("Pushed", 12))).toBe(true);
    // (12 may have followed 10's pushed work onto issue-10 already; onto the squash on main it has not moved.)
    expect(first.lines.some((line) => isEvent("Restacked", 12)(line) && line.event?.onto === "main")).toBe(false);
    // On GitHub, 10's pull request is merged and no other yet: the resumed run starts from there.
    expect(made.pulls().filter(([, merged]) => merged)).toEqual([["issue-10", true]]);

    await resumeToEnd(made, issues);
  }, 600_000);
});
