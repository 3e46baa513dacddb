import { describe, expect, it } from "vitest";
import type { RunReport } from "../../src/core/coordinator/report.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { useGithubProjects } from "../support/coordinate-github.ts";
import { issueFile, REBASE_TEMPLATE, useCoordinateProjects } from "../support/coordinate-project.ts";
import { isEvent, operate, startCoordinator, type CoordinatedProject, type ProgressLine } from "../support/coordinate-run.ts";

/**
 * Conflicts seen coming (issue 14) on both forges, with scripted agents in
 * real containers: two independent issues edit the same line; the later one's
 * agent (#61: it merges after #60, by number) is told while it works, and the
 * prediction is in the report. Judged by what reached the worker (the
 * scripted agent logs every message it receives in its checkout), the
 * order of the run's events, the remote's history and the `--json` report.
 *
 * The order is made by the agents, not by time: #61 commits, says so
 * (`cspace send _coordinator`), and waits for a message; only then is #60
 * let commit (a message from the test), so #60's push, which starts a
 * prediction round, finds #61's work in its checkout. #61 cannot finish
 * before a message reaches it. A third case, on the local forge: a branch
 * stacked on another is told of its own conflict with an independent branch
 * merging before it, and not of its parent's.
 */

const localProject = useCoordinateProjects();
const githubProject = useGithubProjects();

const FILES = { "greeting.txt": "hi\n", ".cspace/templates/rebase.md.hbs": REBASE_TEMPLATE };
const ENGLISH = { number: 60, title: "Greet in English", body: "cspace-script: wait-message\ncspace-script: commit greeting.txt hello" };
const FRENCH = { number: 61, title: "Greet in French", body: "cspace-script: commit greeting.txt bonjour\ncspace-script: say committed\ncspace-script: wait-message" };

/** The run, from the start to its end; judged by what reached #61, the events, the feature branch and the report. */
async function seeItComing(p: CoordinatedProject & { readonly subjects: () => readonly string[]; readonly git: (...args: string[]) => string }): Promise<void> {
  const env = { ...p.repo.env, ...p.env };
  const run = startCoordinator(p, ["60", "61"]);
  await run.waitFor(isEvent("WorkerMessaged", 61));
  // #61 can be that far before #60's launch has finished (its worker warmed later): #60's supervisor must be up to take the message.
  await run.waitFor(isEvent("Launched", 60));
  const go = await runCliAsync(["--cwd", p.repo.dir, "send", "issue-60", "go on"], { env });
  expect(go.status, go.stderr).toBe(0);
  // Without the warning #61 would wait for ever: the run is ended (not left behind) when it does not come.
  await run.waitFor((line) => isEvent("ConflictWarned", 61)(line), 240_000).catch(async (error: unknown) => {
    await run.kill9();
    throw error;
  });
  const { status, stderr } = await run.exited;
  expect(status, stderr.slice(-3000)).toBe(0);

  // What reached #61's agent while it waited: the prediction, first of all it received.
  const received = await runCliAsync(["--cwd", p.repo.dir, "exec", "issue-61", "--", "cat", ".cspace-messages.log"], { env });
  expect(received.status, received.stderr).toBe(0);
  const [first = ""] = received.stdout.split("\n");
  expect(first).toMatch(/^Note from cspace coordinate: your branch issue-61 \(at [0-9a-f]{8}\) will conflict with issue-60 \(#60 "Greet in English"\)/);
  expect(received.stdout).toContain("Merge order: #60 merges into");
  expect(received.stdout).toContain("Conflicting paths: greeting.txt");
  expect(received.stdout).toContain("| hello");
  expect(received.stdout).toContain("| bonjour");

  // Told before it finished: the warning was taken before #61's first report.
  const lines = run.lines;
  const warned = lines.findIndex((line) => isEvent("ConflictWarned", 61)(line) && (line.event as { delivered?: boolean }).delivered === true);
  const reported = lines.findIndex(isEvent("Reported", 61));
  expect(warned).toBeGreaterThanOrEqual(0);
  expect(warned).toBeLessThan(reported);

  // Both merged, the later one on top of the first (after the rebase the conflict asked for).
  expect(p.subjects().map((s) => s.replace(/ \((?:closes )?#\d+\)$/, ""))).toEqual(["Greet in English", "Greet in French"]);
  expect(p.git("show", "main:greeting.txt")).toBe("bonjour");

  // The report: the pair predicted, the conflict met proving it, nothing missed.
  const report = reportOf(lines);
  // (After #60 merged, #61's branch conflicts with the feature branch itself: that pair may be predicted too, and is as true.)
  expect(report?.predictions).toMatchObject({ missed: 0, falseAlarms: 0 });
  expect(report?.predictions?.predicted).toBeGreaterThanOrEqual(1);
  expect(report?.predictions?.cameTrue).toBe(report?.predictions?.predicted);
  expect(report?.predictions?.told).toBeGreaterThanOrEqual(1);
  expect(report?.predictions?.leadMs).toHaveLength(1);
}

describe("cspace coordinate sees conflicts coming", () => {
  it("on the local forge: tells the later agent, while it works, which branch it will conflict with, where, and in what order they merge; the report counts the prediction", async () => {
    const p = await localProject({ name: "co-predict", files: FILES, issues: { 60: issueFile(ENGLISH.title, ENGLISH.body), 61: issueFile(FRENCH.title, FRENCH.body) } });
    await seeItComing(p);
  }, 420_000);

  it("on GitHub (the simulator): the same, the later agent told before it finishes and the prediction in the report", async () => {
    const p = await githubProject({ name: "co-predict-gh", files: FILES, issues: [ENGLISH, FRENCH] });
    await seeItComing(p);
  }, 420_000);
});

describe("cspace coordinate sees conflicts coming for a stacked branch", () => {
  it("tells the agent of a branch stacked on another that it will conflict with an independent branch merging before it, naming only its own paths", async () => {
    // #90 (the parent) and #91 both change shared.txt: that conflict is #90's and #91's. #92, stacked on #90, and #91 both change
    // greeting.txt: #92's own. #91 merges before #92 (dependency order, then number), so #92's agent is told, of greeting.txt alone.
    const p = await localProject({
      name: "co-predict-stacked",
      files: { ...FILES, "shared.txt": "shared\n" },
      issues: {
        90: issueFile("Parent", "cspace-script: commit shared.txt by-parent"),
        91: issueFile("Greet in English", "cspace-script: wait-message\ncspace-script: commit shared.txt by-english\ncspace-script: commit greeting.txt hello"),
        92: issueFile("Greet in French", "cspace-script: commit greeting.txt bonjour\ncspace-script: say committed\ncspace-script: wait-message", [90]),
      },
    });
    const env = p.repo.env;
    const run = startCoordinator(p, ["90", "91", "92"]);
    try {
      // #90's merge is held (the operator's pause) so #92 stacks on its branch and stays stacked while the prediction is made.
      await run.waitFor(isEvent("Launched", 90));
      await operate(p, "pause 90");
      const stacked = await run.waitFor(isEvent("Launched", 92));
      expect((stacked.event as { base?: string }).base).toBe("issue-90");
      await run.waitFor(isEvent("WorkerMessaged", 92));
      await run.waitFor(isEvent("Launched", 91));
      const go = await runCliAsync(["--cwd", p.repo.dir, "send", "issue-91", "go on"], { env });
      expect(go.status, go.stderr).toBe(0);
      await run.waitFor(isEvent("ConflictWarned", 92), 240_000);
      await operate(p, "resume 90");
      await run.waitFor((line) => line.kind === "report", 300_000);
    } catch (error) {
      await run.kill9();
      throw error;
    }
    const { status, stderr } = await run.exited;
    expect(status, stderr.slice(-3000)).toBe(0);

    const received = await runCliAsync(["--cwd", p.repo.dir, "exec", "issue-92", "--", "cat", ".cspace-messages.log"], { env });
    expect(received.status, received.stderr).toBe(0);
    expect(received.stdout.split("\n")[0]).toMatch(/^Note from cspace coordinate: your branch issue-92 \(at [0-9a-f]{8}\) will conflict with issue-91 \(#91 "Greet in English"\)/);
    expect(received.stdout).toContain("Conflicting paths: greeting.txt\n");
    // Its parent's conflict is not its to fix: not named, not quoted.
    expect(received.stdout).not.toContain("shared.txt");
    const predicted = run.lines.filter(isEvent("ConflictPredicted")).map((line) => line.event as unknown as { earlier: number | null; later: number; paths: string[] });
    expect(predicted).toContainEqual(expect.objectContaining({ earlier: 91, later: 92, paths: ["greeting.txt"] }));
    expect(predicted.filter((event) => event.later === 92 && event.paths.includes("shared.txt"))).toEqual([]);
    expect(p.git("show", "main:greeting.txt")).toBe("bonjour");
  }, 480_000);
});

function reportOf(lines: readonly ProgressLine[]): RunReport | null {
  const line = [...lines].reverse().find((l) => l.kind === "report") as { report?: RunReport } | undefined;
  return line?.report ?? null;
}
