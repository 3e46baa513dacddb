import { expect } from "vitest";
import { UNKNOWN_RESET_WAIT_MS } from "../../src/core/coordinator/usage-limits.ts";
import { instancePaths } from "../../src/services/workers/instance-files.ts";
import { explain, issueFile, rowOf } from "../support/coordinate-project.ts";
import type { LogEntry } from "../support/model-server/index.ts";
import { describeLog } from "./chain-scenario.ts";
import type { RealCli, RealCliProject, RealCliProjectOptions } from "./real-cli-project.ts";
import { eventsOfRun, workerEvents } from "./run-events.ts";

/**
 * Issue 13, findings 2 and 3, against a real one-shot CLI (codex, gemini,
 * opencode): `cspace coordinate` of two issues, 2 blocked by 1 so they meet
 * the model server one after the other.
 *
 * 1. An API error the CLI retries before its shell step: the retry shows in
 *    the worker's events (what `cspace logs` shows, and `status` while it
 *    lasts) as an `api-retry` where the CLI says anything, and the issue
 *    merges.
 * 2. The account's usage limit on the first request. A CLI that gives up
 *    and says so (codex, gemini) is read into `RateLimited`; neither says
 *    when the limit resets, so the park is the 30-minute guess, and the run
 *    ends there with `coordinator.onUsageLimit: "fail"` (the issue fails
 *    with that reason) rather than wait for it. A CLI that waits the limit
 *    out by itself (opencode) is given a short one: it merges, and cspace
 *    never hears of a limit.
 */

export interface LimitsExpectation {
  /** The steering lines that make the first issue's shell step meet an API error the CLI retries. */
  readonly retryLines: readonly string[];
  /** The statuses the model server answered that step's requests with, in order. */
  readonly retryStatuses: readonly number[];
  /** The `api-retry` events' texts the worker recorded for it (none where the CLI prints nothing). */
  readonly retryEvents: readonly string[];
  /** How the CLI meets a usage limit: gives up and says so in these words, or waits out a short one by itself. */
  readonly limit: { readonly kind: "gives-up"; readonly message: RegExp } | { readonly kind: "waits"; readonly seconds: number };
}

const commitLine = (file: string, text: string, subject: string): string => `#model shell printf ${text} > ${file} && git add ${file} && git commit -qm '${subject}'`;

export async function runLimits(make: (options: RealCliProjectOptions) => Promise<RealCliProject>, cli: RealCli, image: string, expected: LimitsExpectation): Promise<void> {
  const limitLine = expected.limit.kind === "waits" ? `#model limit ${String(expected.limit.seconds)}s` : "#model limit 3600s";
  const project = await make({
    name: `real-${cli}-limits`,
    cli,
    image,
    issues: {
      1: issueFile("Add the greeting", [...expected.retryLines, commitLine("greeting.txt", "hello", "Add the greeting"), "#model say Committed the greeting."].join("\n")),
      2: issueFile("Greet by name", [limitLine, commitLine("name.txt", "world", "Greet by name"), "#model say Committed the name."].join("\n"), [1]),
    },
    coordinator: { maxAttempts: 1, maxParallel: 1, onUsageLimit: "fail" },
  });
  const run = await project.coordinate([1, 2], 420_000);
  const log = await project.modelLog();
  const retried = await workerEvents(instancePaths(project.repo.runDir, "issue-1").events);
  const why = `${explain(run)}\n--- model log\n${describeLog(log)}\n--- issue-1's events\n${retried.map((e) => `${e.ts} ${e.source}/${e.type} ${(e.text ?? "").slice(0, 200)}`).join("\n")}`;
  const requestsFor = (file: string): LogEntry[] => log.filter((e) => e.script.some((line) => line.includes(`> ${file} `)) && e.answer !== "json" && e.answer !== "side");

  // 1: the API error, retried by the CLI, shown where the CLI says it; the issue merged in its one attempt.
  expect(requestsFor("greeting.txt").filter((e) => e.step === 0).map((e) => e.status), why).toEqual([...expected.retryStatuses, 200]);
  expect(retried.filter((e) => e.type === "api-retry").map((e) => e.text), why).toEqual(expected.retryEvents);
  expect(rowOf(run.report, 1), why).toMatchObject({ status: "merged", attempts: 1, failedAttempts: 0 });

  const limited = eventsOfRun(run.stdout).filter((e) => e.type === "RateLimited");
  if (expected.limit.kind === "waits") {
    // 2: the CLI waited for the reset itself (the retry-after the server sent) and went on: cspace saw no limit.
    expect(requestsFor("name.txt").filter((e) => e.step === 0).map((e) => e.answer), why).toEqual(["limit", "shell"]);
    expect(limited, why).toEqual([]);
    expect(rowOf(run.report, 2), why).toMatchObject({ status: "merged", attempts: 1, parkedMs: 0 });
    expect(run.status, why).toBe(0);
    expect(project.subjects(), why).toEqual(["Add the greeting (closes #1)", "Greet by name (closes #2)"]);
    return;
  }
  // 2: the CLI gave up on the limit, in its words; cspace parked the account for the guessed wait, and with
  // onUsageLimit "fail" failed the issue with the reason instead of waiting.
  expect(requestsFor("name.txt").map((e) => e.answer), why).toEqual(["limit"]);
  expect(limited, why).toHaveLength(1);
  const event = limited[0];
  expect(event, why).toMatchObject({ issue: 2, attempt: 1, account: cli, resetsAt: null, message: expect.stringMatching(expected.limit.message) as string });
  // The guessed wait from when the limit was recorded (`at` and `until` are read off the clock apart: a few ms).
  const parkedFor = Date.parse(String(event?.until)) - Date.parse(String(event?.at));
  expect(parkedFor, why).toBeGreaterThanOrEqual(UNKNOWN_RESET_WAIT_MS);
  expect(parkedFor, why).toBeLessThan(UNKNOWN_RESET_WAIT_MS + 60_000);
  const row = rowOf(run.report, 2);
  expect(row.status, why).toBe("failed");
  expect(row.reason, why).toContain('coordinator.onUsageLimit is "fail"');
  expect(run.status, why).toBe(1);
  expect(project.subjects(), why).toEqual(["Add the greeting (closes #1)"]);
}
