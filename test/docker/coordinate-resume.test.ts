import { describe, expect, inject, it } from "vitest";
import { runCliAsync } from "../support/cli-async.ts";
import { agentStarts, isEvent, mergedOnce, operate, outboxReports, startCoordinator, until, useForgeProjects, type ForgeProject } from "../support/coordinate-run.ts";
import { testDocker } from "../support/docker.ts";

/**
 * `kill -9` of `cspace coordinate` at chosen moments (picked from its --json
 * event stream), then `cspace coordinate --resume` to the end: the same
 * merged result as an uninterrupted run. Judged by the remote's history and
 * the forge's records, never by log text.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const project = useForgeProjects(runId, docker);

async function resumeToEnd(made: ForgeProject): Promise<void> {
  const resumed = startCoordinator(made, ["--resume"]);
  const stuck = setTimeout(() => void resumed.kill9(), 240_000);
  const { status, signal, stderr } = await resumed.exited.finally(() => { clearTimeout(stuck); });
  const seen = resumed.lines.map((line) => JSON.stringify(line).slice(0, 300)).join("\n");
  expect(status, `${String(signal)}\n${seen}\n${stderr.slice(-4000)}`).toBe(0);
  expect(await mergedOnce(made)).toEqual([]);
}

describe("cspace coordinate killed with -9, then --resume", () => {
  it("during warm (a Warmed, no Launched yet): resumes to each issue merged once", async () => {
    const made = await project("co-kill-warm", [
      { number: 10, title: "Add the greeting", path: "greeting.txt", text: "hello" },
      { number: 11, title: "Add the farewell", path: "farewell.txt", text: "goodbye" },
      { number: 12, title: "Greet by name", blockedBy: [10], path: "name.txt", text: "world" },
    ]);
    const first = startCoordinator(made, ["10", "11", "12"]);
    await first.waitFor(isEvent("Warmed"));
    await first.kill9();
    expect(first.lines.filter(isEvent("Launched"))).toEqual([]);

    await resumeToEnd(made);
    for (const n of [10, 11, 12]) expect(await agentStarts(made.paths(`issue-${String(n)}`))).toBe(1);
  }, 600_000);

  it("mid-launch: the agents finish without it, their reports wait in the outbox and are collected; none is launched twice", async () => {
    const made = await project("co-kill-launch", [
      { number: 10, title: "Add the greeting", sleepSeconds: 8, path: "greeting.txt", text: "hello" },
      { number: 11, title: "Add the farewell", sleepSeconds: 8, path: "farewell.txt", text: "goodbye" },
    ]);
    const first = startCoordinator(made, ["10", "11"]);
    const launched = await first.waitFor(isEvent("Launched"));
    await first.kill9();
    const issue = launched.event?.issue ?? 0;
    const paths = made.paths(`issue-${String(issue)}`);
    // The coordinator is gone: the agent's report can only go to the outbox.
    await until(async () => (await outboxReports(paths)).length > 0, `a report of #${String(issue)} in its outbox`);

    await resumeToEnd(made);
    expect(await outboxReports(paths)).toEqual([]);
    for (const n of [10, 11]) expect(await agentStarts(made.paths(`issue-${String(n)}`))).toBe(1);
  }, 600_000);

  it("refuses a second coordinator while one runs (exit 2), naming the running one", async () => {
    const made = await project("co-second", [{ number: 10, title: "Add the greeting", sleepSeconds: 10, path: "greeting.txt", text: "hello" }]);
    const first = startCoordinator(made, ["10"]);
    await first.waitFor(isEvent("Launched"));
    const second = await runCliAsync(["--cwd", made.repo.dir, "coordinate", "--resume"], { env: made.repo.env });
    expect(second.status).toBe(2);
    expect(second.stderr).toContain(`process ${String(first.pid)}`);
    const { status, stderr } = await first.exited;
    expect(status, stderr.slice(-4000)).toBe(0);
    expect(await mergedOnce(made)).toEqual([]);
  }, 600_000);

  it("between the merge of 10 and the restack of 12 stacked on it", async () => {
    const made = await project("co-kill-merge", [
      { number: 10, title: "Add the greeting", sleepSeconds: 8, path: "greeting.txt", text: "hello" },
      { number: 12, title: "Greet by name", blockedBy: [10], sleepSeconds: 1, path: "name.txt", text: "world" },
    ]);
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

    await resumeToEnd(made);
    for (const n of [10, 12]) expect(await agentStarts(made.paths(`issue-${String(n)}`))).toBe(1);
  }, 600_000);
});
