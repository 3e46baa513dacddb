import { execFileSync } from "node:child_process";
import { afterEach, describe, expect, inject, it } from "vitest";
import { containerNameFor } from "../../src/core/instances/names.ts";
import { MAX_WORKER_MESSAGE_BYTES } from "../../src/core/messaging/protocol.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { issueFile, makeCoordinateProject, type CoordinateProject } from "../support/coordinate-project.ts";
import { isEvent, startCoordinator } from "../support/coordinate-run.ts";
import { testDocker } from "../support/docker.ts";

/**
 * A prompt-injected agent floods the host (issue 12, item 6): from inside its
 * real worker container, during a `cspace coordinate` run, it sends 40 lines
 * of 1 MB and then 1000 small messages on its c.sock. Before the bounds, each
 * was persisted (fsync) and echoed in full: 38 MB of log and 40 MB of stderr
 * in seconds. Now the big lines are refused as too large, the flood past the
 * rate limit as rate-limited, shown as one notice; the run's log and output
 * stay small, and the run still ends with its issues merged.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Runs in the worker (Node 18, as the supervisor): the attack, then what the coordinator answered, as JSON. */
const FLOOD = String.raw`
const net = require("net");
const SOCK = "/run/cspace/c.sock";
function exchange(lines, expected) {
  return new Promise((resolve) => {
    const replies = [];
    let buffer = "";
    const conn = net.createConnection(SOCK);
    conn.on("data", (chunk) => {
      buffer += chunk.toString();
      let at;
      while ((at = buffer.indexOf("\n")) !== -1) {
        replies.push(JSON.parse(buffer.slice(0, at)));
        buffer = buffer.slice(at + 1);
        if (replies.length === expected) conn.end();
      }
    });
    conn.on("error", () => undefined);
    conn.on("close", () => resolve(replies));
    conn.on("connect", () => { for (const line of lines) conn.write(line + "\n"); });
  });
}
const codeOf = (reply) => (reply.ok ? "ok" : reply.error.code);
(async () => {
  const big = "x".repeat(1000 * 1000); // 1 MB, under the 1 MiB every socket took before
  const bigCodes = [];
  for (let i = 0; i < 40; i++) {
    const replies = await exchange([JSON.stringify({ v: 1, id: "big" + i, cmd: "send", text: big })], 1);
    bigCodes.push(replies.length === 0 ? "closed" : codeOf(replies[0]));
  }
  const small = [];
  for (let i = 0; i < 1000; i++) small.push(JSON.stringify({ v: 1, id: "s" + i, cmd: "send", text: "flood " + i }));
  const smallCodes = (await exchange(small, 1000)).map(codeOf);
  console.log(JSON.stringify({ bigCodes, smallCodes }));
})();
`;

interface FloodResult {
  readonly bigCodes: readonly string[];
  readonly smallCodes: readonly string[];
}

function count(codes: readonly string[], code: string): number {
  return codes.filter((c) => c === code).length;
}

describe("a worker that floods the coordinator", () => {
  it("is refused past the line, message and rate bounds, shown once, and the run still merges everything", async () => {
    const p: CoordinateProject = await makeCoordinateProject(docker, {
      name: `hostile-flood-${runId}`,
      issues: {
        40: issueFile("Flood the coordinator", "cspace-script: wait-message\ncspace-script: commit flood.txt survived"),
        41: issueFile("Work beside the flood", "cspace-script: commit beside.txt calm"),
      },
    });
    cleanups.push(() => p.remove());
    const run = startCoordinator(p, ["40", "41"]);
    await run.waitFor(isEvent("Launched", 40));

    const output = execFileSync("docker", ["exec", containerNameFor(p.projectId, "issue-40"), "node", "-e", FLOOD], { encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
    const flood = JSON.parse(output) as FloodResult;

    // The agent, which waited for this, goes on and commits.
    const go = await runCliAsync(["--cwd", p.repo.dir, "send", "issue-40", "go on"], { env: p.repo.env });
    expect(go.status, go.stderr).toBe(0);
    const { status, stderr } = await run.exited;
    expect(status, stderr.slice(-3000)).toBe(0);

    // Every 1 MB line is refused before it is read whole; none reaches the log.
    expect(flood.bigCodes).toEqual(Array.from({ length: 40 }, () => "too-large"));
    // The small flood: a burst goes through, the rest is refused without being recorded.
    expect(flood.smallCodes).toHaveLength(1000);
    const taken = count(flood.smallCodes, "ok");
    expect(count(flood.smallCodes, "rate-limited")).toBe(1000 - taken);
    expect(taken).toBeGreaterThan(0);
    expect(taken).toBeLessThan(100);

    // The log: only the messages taken, none longer than a message may be.
    const messaged = run.lines.filter(isEvent("WorkerMessaged")).map((line) => line.event as { text?: string });
    expect(messaged).toHaveLength(taken);
    for (const event of messaged) expect(Buffer.byteLength(event.text ?? "", "utf8")).toBeLessThanOrEqual(MAX_WORKER_MESSAGE_BYTES);
    const loggedBytes = run.lines.reduce((sum, line) => sum + JSON.stringify(line).length, 0);
    expect(loggedBytes).toBeLessThan(1024 * 1024);
    // One notice for the burst, not one per refusal; the coordinator's own output stays small.
    const notices = run.lines.filter((line) => line.kind === "notice" && JSON.stringify(line).includes("sends too fast"));
    expect(notices).toHaveLength(1);
    expect(stderr.length).toBeLessThan(256 * 1024);

    const pulls = await p.pullRequests();
    expect(pulls.map((pr) => [pr.head, pr.state]).sort()).toEqual([["issue-40", "merged"], ["issue-41", "merged"]]);
  }, 300_000);
});
