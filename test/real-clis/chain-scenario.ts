import { expect } from "vitest";
import { at, explain, issueFile, rowOf } from "../support/coordinate-project.ts";
import type { LogEntry } from "../support/model-server/index.ts";
import type { RealCli, RealCliProject, RealCliProjectOptions } from "./real-cli-project.ts";

/**
 * The lane's first scenario, the same for every CLI: `cspace coordinate` of a
 * chain of two issues (2 blocked by 1) and an independent one (3). Each issue
 * steers the model server to one shell step that commits a file through the
 * CLI's own shell tool, then a closing answer. Judged by the remote's history
 * and by the report's turns against the model server's log.
 */

/** One issue's steering: commit `file` holding `text` with `subject`, then answer `answer`. */
function commitScript(file: string, text: string, subject: string, answer: string): string {
  return [`#model shell printf ${text} > ${file} && git add ${file} && git commit -qm '${subject}'`, `#model say ${answer}`].join("\n");
}

export const CHAIN_ISSUES: RealCliProjectOptions["issues"] = {
  1: issueFile("Add the greeting", commitScript("greeting.txt", "hello", "Add the greeting", "Committed the greeting.")),
  2: issueFile("Greet by name", commitScript("name.txt", "world", "Greet by name", "Committed the name."), [1]),
  3: issueFile("Add the farewell", commitScript("farewell.txt", "goodbye", "Add the farewell", "Committed the farewell.")),
};

/** The requests whose steering user text is issue `n`'s (its script's commit line names its file). */
export function requestsOf(log: readonly LogEntry[], file: string): LogEntry[] {
  return log.filter((entry) => entry.script.some((line) => line.includes(`> ${file} `)));
}

export async function runChain(
  make: (options: RealCliProjectOptions) => Promise<RealCliProject>,
  cli: RealCli,
  image: string,
  agent: RealCliProjectOptions["agent"] = {},
): Promise<{ project: RealCliProject; log: readonly LogEntry[] }> {
  const project = await make({ name: `real-${cli}-chain`, cli, image, issues: CHAIN_ISSUES, agent });
  const run = await project.coordinate([1, 2, 3], 420_000);
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
  expect((await project.pullRequests()).map((pr) => [pr.head, pr.state]).sort()).toEqual([["issue-1", "merged"], ["issue-2", "merged"], ["issue-3", "merged"]]);

  // The model server ran each issue's script once: its shell step, then its closing answer, all answered 200.
  const log = await project.modelLog();
  for (const [n, file] of [[1, "greeting.txt"], [2, "name.txt"], [3, "farewell.txt"]] as const) {
    const answered = requestsOf(log, file).filter((entry) => entry.answer === "shell" || entry.answer === "text");
    expect(answered.map((entry) => [entry.answer, entry.status]), `#${String(n)}\n${JSON.stringify(log, null, 1).slice(0, 4000)}`).toEqual(
      expect.arrayContaining([["shell", 200], ["text", 200]]),
    );
    expect(answered.filter((entry) => entry.answer === "shell")).toHaveLength(1);
    // One user turn, one attempt: what the agent answered once is counted once.
    const row = rowOf(run.report, n);
    expect(row.status).toBe("merged");
    expect(row.attempts).toBe(1);
    expect(row.turns).toBe(1);
  }
  return { project, log };
}
