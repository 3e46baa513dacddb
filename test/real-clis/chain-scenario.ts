import { access, writeFile } from "node:fs/promises";
import path from "node:path";
import { expect } from "vitest";
import { runCliAsync } from "../support/cli-async.ts";
import { at, explain, issueFile, rowOf } from "../support/coordinate-project.ts";
import { until } from "../support/coordinate-run.ts";
import type { LogEntry } from "../support/model-server/index.ts";
import { MOUNT, type RealCli, type RealCliProject, type RealCliProjectOptions } from "./real-cli-project.ts";

/**
 * The lane's first scenario, the same for every CLI: `cspace coordinate` of a
 * chain of two issues (2 blocked by 1) and an independent one (3). Each issue
 * steers the model server to one shell step that commits a file through the
 * CLI's own shell tool, then a closing answer. Issue 3 also meets an API
 * error (HTTP 500 once, which the CLI retries) and, where `send` says so,
 * takes a `cspace send` as a new turn: its shell step leaves a file the test
 * waits for, then blocks until the test has sent the message, so the message
 * always arrives mid-turn.
 * Judged by the remote's history and by the report's turns against the model
 * server's log.
 */

/** One issue's steering: commit `file` holding `text` with `subject`, then answer `answer`. */
function commitScript(file: string, text: string, subject: string, answer: string): string {
  return [`#model shell printf ${text} > ${file} && git add ${file} && git commit -qm '${subject}'`, `#model say ${answer}`].join("\n");
}

const COMMITTED = "farewell-committed";
const RELEASE = "farewell-release";

export const CHAIN_ISSUES: RealCliProjectOptions["issues"] = {
  1: issueFile("Add the greeting", commitScript("greeting.txt", "hello", "Add the greeting", "Committed the greeting.")),
  2: issueFile("Greet by name", commitScript("name.txt", "world", "Greet by name", "Committed the name."), [1]),
  3: issueFile(
    "Add the farewell",
    [
      `#model shell printf goodbye > farewell.txt && git add farewell.txt && git commit -qm 'Add the farewell' && touch ${MOUNT}/${COMMITTED} && until [ -e ${MOUNT}/${RELEASE} ]; do sleep 0.2; done`,
      "#model fail 500 once",
      "#model say Committed the farewell.",
    ].join("\n"),
  ),
};

/**
 * The message sent to issue 3 mid-turn: a turn of its own that commits one
 * more file. Prose comes first, as in a person's message: opencode 1.18.33
 * hands the model its message wrapped in quotes (issue 13, finding 5), which
 * would hide a steering line placed first.
 */
const SENT = ["Please say goodbye twice.", commitScript("twice.txt", "twice", "Say goodbye twice", "Said it twice.")].join("\n");

/** The requests whose steering user text is issue `n`'s (its script's commit line names its file). */
export function requestsOf(log: readonly LogEntry[], file: string): LogEntry[] {
  return log.filter((entry) => entry.script.some((line) => line.includes(`> ${file} `)));
}

export async function runChain(
  make: (options: RealCliProjectOptions) => Promise<RealCliProject>,
  cli: RealCli,
  image: string,
  options: {
    readonly agent?: RealCliProjectOptions["agent"];
    /**
     * Whether to send issue 3 its message mid-turn and expect it taken. A
     * one-shot CLI (codex, gemini, opencode) exits with the message still
     * queued: the supervisor runs it as the follow-up turn before it reports,
     * so its commit reaches the pull request.
     */
    readonly send: boolean;
  },
): Promise<{ project: RealCliProject; log: readonly LogEntry[] }> {
  const agent = options.agent ?? {};
  const project = await make({ name: `real-${cli}-chain`, cli, image, issues: CHAIN_ISSUES, agent });
  const running = project.coordinate([1, 2, 3], 420_000);
  const state = { ended: false };
  void running.finally(() => (state.ended = true));
  const exists = (name: string): Promise<boolean> => access(path.join(project.serverDir, name)).then(() => true, () => false);
  await until(async () => state.ended || (await exists(COMMITTED)), "issue 3's first commit", 400_000);
  if (!state.ended && options.send) {
    const sent = await runCliAsync(["--cwd", project.repo.dir, "send", "issue-3", SENT], { env: project.repo.env });
    expect(sent.status, sent.stderr).toBe(0);
  }
  await writeFile(path.join(project.serverDir, RELEASE), "");
  const run = await running;
  expect(run.status, explain(run)).toBe(0);

  // Three squash commits on the remote's main, 1 before 2; each file as the agent's shell wrote it.
  const subjects = project.subjects();
  expect(subjects, explain(run)).toHaveLength(3);
  expect(at(subjects, "Add the greeting")).toBeGreaterThanOrEqual(0);
  expect(at(subjects, "Add the farewell")).toBeGreaterThanOrEqual(0);
  expect(at(subjects, "Greet by name")).toBeGreaterThan(at(subjects, "Add the greeting"));
  expect(project.git("show", "main:greeting.txt")).toBe("hello");
  expect(project.git("show", "main:name.txt")).toBe("world");
  expect(project.git("show", "main:farewell.txt")).toBe("goodbye");
  const log = await project.modelLog();
  if (options.send) {
    const onMain = project.git("ls-tree", "--name-only", "main").split("\n");
    expect(onMain, `the message sent to issue 3 was taken as a turn\n${explain(run)}\n${describeLog(log)}`).toContain("twice.txt");
  }
  expect((await project.pullRequests()).map((pr) => [pr.head, pr.state]).sort()).toEqual([["issue-1", "merged"], ["issue-2", "merged"], ["issue-3", "merged"]]);

  // The model server ran each issue's script once: its shell step, then its closing answer, all answered 200.
  for (const [n, file] of [[1, "greeting.txt"], [2, "name.txt"], [3, "farewell.txt"]] as const) {
    const answered = requestsOf(log, file).filter((entry) => entry.answer === "shell" || entry.answer === "text");
    expect(answered.map((entry) => [entry.answer, entry.status]), `#${String(n)}\n${JSON.stringify(log, null, 1).slice(0, 4000)}`).toEqual(
      expect.arrayContaining([["shell", 200], ["text", 200]]),
    );
    expect(answered.filter((entry) => entry.answer === "shell")).toHaveLength(1);
    // One attempt; one user turn each, and the message sent to issue 3 a second: each counted once.
    const row = rowOf(run.report, n);
    expect(row.status).toBe("merged");
    expect(row.attempts).toBe(1);
    expect(row.turns).toBe(n === 3 && options.send ? 2 : 1);
  }
  // Issue 3's closing answer failed once with HTTP 500; the CLI asked again and got it.
  const closing = requestsOf(log, "farewell.txt").filter((entry) => entry.step === 1 && entry.answer !== "json" && entry.answer !== "probe");
  expect(closing.map((entry) => entry.status)).toEqual([500, 200]);
  // The sent message's own script ran once: its commit, then its answer.
  const sentTurn = requestsOf(log, "twice.txt").filter((entry) => entry.answer === "shell" || entry.answer === "text");
  expect(sentTurn.map((entry) => [entry.answer, entry.status])).toEqual(options.send ? [["shell", 200], ["text", 200]] : []);
  return { project, log };
}

/** The model server's log, one line a request, for a failed expectation. */
export function describeLog(log: readonly LogEntry[]): string {
  return log.map((e) => `${e.time} ${e.api} ${e.path} step=${String(e.step)} ${String(e.status)} ${e.answer} ${e.command ?? ""} | ${e.script.join(" / ").slice(0, 160)}`).join("\n");
}
