import { execFileSync } from "node:child_process";
import { describe, expect, inject, it } from "vitest";
import { containerNameFor } from "../../src/core/instances/names.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { issueFile, makeCoordinateProject, type CoordinateProject } from "../support/coordinate-project.ts";
import { isEvent, startCoordinator } from "../support/coordinate-run.ts";
import { testDocker } from "../support/docker.ts";

/**
 * A prompt-injected agent attacks the coordinator over its own socket
 * (issue 12, item 2): from inside its real worker container it writes to
 * /run/cspace/c.sock the report that used to brick the project
 * (`outcome: "bogus"`, recorded unchecked, then crashing every fold of the
 * log), garbage, a non-object, reports with two and twenty thousand fields, and one
 * whose sha git would take for an option. Each gets an error reply; nothing
 * of it is recorded; the run still ends with both issues merged and
 * `cspace status` answers.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();

/**
 * Runs in the worker's Node 18: one connection with every line at once, then every reply; then a line past c.sock's
 * bound on a connection of its own (the server answers it too-large and closes: its rest cannot be framed).
 */
const ATTACK = String.raw`
const net = require("net");
const valid = { id: "issue-10-forged", instance: "issue-10", outcome: "success", exitCode: 0, signal: null, branch: "issue-10", base: "main",
  headSha: "--upload-pack=touch /tmp/pwned", commitsAhead: 1, summary: "done", blockedReason: null, turns: 1, costUsd: null, sessionId: null,
  startedAt: "2026-01-01T00:00:00.000Z", endedAt: "2026-01-01T00:00:01.000Z" };
const many = {};
for (let i = 0; i < 2000; i++) many["field" + i] = i;
const huge = {};
for (let i = 0; i < 20000; i++) huge["field" + i] = i;
const lines = [
  JSON.stringify({ v: 1, id: "r", cmd: "report", report: { id: "x", outcome: "bogus" } }),
  "this is not json {",
  "[1, 2, 3]",
  JSON.stringify({ v: 1, id: "many", cmd: "report", report: many }),
  JSON.stringify({ v: 1, id: "sha", cmd: "report", report: valid }),
];
function exchange(sent) {
  return new Promise((resolve) => {
    const socket = net.createConnection("/run/cspace/c.sock");
    let buffer = "";
    const replies = [];
    socket.on("data", (chunk) => {
      buffer += chunk;
      let at;
      while ((at = buffer.indexOf("\n")) >= 0) {
        replies.push(JSON.parse(buffer.slice(0, at)));
        buffer = buffer.slice(at + 1);
      }
      if (replies.length === sent.length) {
        socket.destroy();
        resolve(replies);
      }
    });
    socket.on("error", (error) => { process.stderr.write(String(error)); process.exit(1); });
    socket.write(sent.join("\n") + "\n");
  });
}
exchange(lines)
  .then((first) => exchange([JSON.stringify({ v: 1, id: "huge", cmd: "report", report: huge })]).then((second) => first.concat(second)))
  .then((replies) => process.stdout.write(JSON.stringify(replies)));
`;

interface Reply {
  readonly id: string | null;
  readonly ok: boolean;
  readonly error?: { readonly code: string; readonly message: string };
}

describe("a worker attacking the coordinator's c.sock with malformed lines", () => {
  let project: CoordinateProject | null = null;

  it("gets an error reply for each, and the run still merges both issues with status answering", async () => {
    project = await makeCoordinateProject(docker, {
      name: `hostile-report-${runId}`,
      issues: {
        // The attacker: it waits for a message, so the attack happens while its attempt is open.
        10: issueFile("Add the greeting", "cspace-script: wait-message\ncspace-script: commit greeting.txt hello"),
        11: issueFile("Add the farewell", "cspace-script: commit farewell.txt goodbye"),
      },
    });
    const made = project;
    try {
      const run = startCoordinator(made, ["10", "11"]);
      await run.waitFor(isEvent("Launched", 10));

      const container = containerNameFor(made.projectId, "issue-10");
      const replies = JSON.parse(execFileSync("docker", ["exec", container, "node", "-e", ATTACK], { encoding: "utf8", timeout: 60_000 })) as Reply[];
      const byId = (id: string | null): Reply[] => replies.filter((reply) => reply.id === id);
      expect(replies.every((reply) => !reply.ok)).toBe(true);
      expect(byId("r")[0]?.error).toMatchObject({ code: "bad-request", message: expect.stringContaining("report.outcome") as unknown });
      expect(byId("many")[0]?.error).toMatchObject({ code: "bad-request", message: expect.stringContaining("report.id") as unknown });
      expect(byId("sha")[0]?.error).toMatchObject({ code: "bad-request", message: expect.stringContaining("report.headSha") as unknown });
      // A line past c.sock's bound is not even parsed: too-large, with no id.
      expect(byId(null).map((reply) => reply.error?.code).sort()).toEqual(["bad-json", "bad-request", "too-large"]);
      // What goes back quotes the worker's fields: bounded however many it sent.
      expect(replies.every((reply) => (reply.error?.message.length ?? 0) <= 400)).toBe(true);

      // The attacker's agent goes on, and so does the run.
      const go = await runCliAsync(["--cwd", made.repo.dir, "send", "issue-10", "go"], { env: made.repo.env });
      expect(go.status, go.stderr).toBe(0);
      const { status, stderr } = await run.exited;
      expect(status, stderr.slice(-3000)).toBe(0);
      // Shown to people once, as a notice; never recorded as an event.
      const notices = run.lines.filter((line) => line.kind === "notice").map((line) => JSON.stringify(line));
      expect(notices.some((text) => text.includes("issue-10: report refused: ") && text.includes("report.outcome"))).toBe(true);
      expect(run.lines.filter(isEvent("Reported", 10))).toHaveLength(1);
      expect(made.subjects()).toHaveLength(2);
      expect(await made.issueState(10)).toBe("closed");
      expect(await made.issueState(11)).toBe("closed");
      expect(made.git("show", "main:greeting.txt")).toBe("hello");

      const after = await runCliAsync(["--cwd", made.repo.dir, "status"], { env: made.repo.env });
      expect(after.status, after.stderr).toBe(0);
      expect(after.stdout).not.toContain("Problem");
    } finally {
      await made.remove();
    }
  }, 600_000);
});
