import { describe, expect, it } from "vitest";
import type { CoordinatorEvent } from "../../src/core/coordinator/events.ts";
import type { RunReport } from "../../src/core/coordinator/report.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { useGithubProjects } from "../support/coordinate-github.ts";
import { issueFile, rowOf, useCoordinateProjects } from "../support/coordinate-project.ts";
import { isEvent, operate, startCoordinator, type CoordinatedProject, type ProgressLine } from "../support/coordinate-run.ts";
import { CALLERS_CHECK, eventsIn, ofType, verifyEachCommit } from "../support/verified-trees.ts";

/**
 * The merge train (issue 14, "Done when"), on both forges, with scripted
 * agents in real containers: four independent issues ready together form one
 * train (`coordinator.train` 4), the first verified on the feature branch's
 * tip, each next one on the tip with the cars before it merged, each in its
 * own worker. The third passes alone but fails behind the second (a rename on
 * one side, a caller of the old name on the other: no textual conflict), so
 * the fourth, verified on a tree that held the third, is verified again
 * without it. Judged by the run's events and report, and by checking out
 * every commit the run added to the feature branch and running verify on it.
 *
 * The order is made by the test, not by time. "Ready together": each agent
 * waits for a message before it commits; the run is paused (no launch, no
 * merge, no train) once all four have started, then each agent is let go,
 * and the run resumes once every pull request is open and checked, held only
 * by the landing gate; the train then takes them in merge order, at once.
 * "Verified again without the third": the third's retry waits for a message
 * too, sent once the fourth has passed, so its new head cannot join the
 * train ahead of the fourth however slow a worker is.
 */

const localProject = useCoordinateProjects();
const githubProject = useGithubProjects();

interface Car {
  readonly number: number;
  readonly title: string;
  readonly body: string;
}

/** The four issues from `first` on, in merge order; the third calls the name the second renames. */
function trainOfFour(first: number): readonly Car[] {
  const waitThenCommit = (path: string, text: string): string => `cspace-script: wait-message\ncspace-script: commit ${path} ${text}`;
  return [
    { number: first, title: "Add the first note", body: waitThenCommit("notes/first.txt", "first") },
    { number: first + 1, title: "Rename greet to welcome", body: waitThenCommit("names.txt", "welcome") },
    { number: first + 2, title: "Add a caller of greet", body: waitThenCommit("callers/hello.txt", "greet") },
    { number: first + 3, title: "Add the fourth note", body: waitThenCommit("notes/fourth.txt", "fourth") },
  ];
}

const SETTINGS = { coordinator: { maxParallel: 4, train: 4, maxAttempts: 2 }, verify: { all: "sh check.sh" } } as const;
/** The retry (only the third's): wait to be let go, then bring the feature branch in and call the name it defines now. */
const RETRY = [
  "# Issue #{{issue.number}}, attempt {{attempt}} of {{maxAttempts}} ({{failure.kind}})",
  "",
  "cspace-script: wait-message",
  "cspace-script: rebase {{baseBranch}}",
  "cspace-script: commit callers/hello.txt welcome",
  "",
].join("\n");

const FILES = { "check.sh": CALLERS_CHECK, "names.txt": "greet\n", ".cspace/templates/retry.md.hbs": RETRY } as const;

interface TrainRun {
  readonly status: number | null;
  readonly stderr: string;
  readonly events: readonly CoordinatorEvent[];
  readonly report: RunReport | null;
}

/**
 * The run as the header says: all four agents started, the run paused, each
 * agent let go, all four checked, resumed; the third's retry let go once the
 * fourth passed.
 */
async function runTrain(project: CoordinatedProject, cars: readonly Car[]): Promise<TrainRun> {
  const goOn = async (issue: number): Promise<void> => {
    const sent = await runCliAsync(["--cwd", project.repo.dir, "send", `issue-${String(issue)}`, "go on"], { env: { ...project.repo.env, ...project.env } });
    if (sent.status !== 0) throw new Error(`cspace send issue-${String(issue)}: exit ${String(sent.status)}\n${sent.stderr}`);
  };
  const [, , third, fourth] = cars;
  if (third === undefined || fourth === undefined) throw new Error("a train of four needs four cars");
  const run = startCoordinator(project, cars.map((car) => String(car.number)));
  try {
    for (const car of cars) await run.waitFor(isEvent("Launched", car.number));
    await operate(project, "pause");
    for (const car of cars) await goOn(car.number);
    for (const car of cars) await run.waitFor(heldOnlyByLanding(car.number));
    await operate(project, "resume");
    // The fourth's first verification fails (the third is under it), so its first pass is the one without the third.
    await run.waitFor(isEvent("LandingVerified", fourth.number));
    await run.waitFor((line) => isEvent("Launched", third.number)(line) && (line.event as Extract<CoordinatorEvent, { type: "Launched" }>).attempt === 2);
    await goOn(third.number);
    await run.waitFor((line) => line.kind === "report", 480_000);
  } catch (error) {
    await run.kill9();
    throw error;
  }
  const { status, stderr } = await run.exited;
  const report = [...run.lines].reverse().find((line) => line.kind === "report") as { report?: RunReport } | undefined;
  return { status, stderr, events: eventsIn(run.lines), report: report?.report ?? null };
}

/** The forge called the pull request mergeable with no check pending: only the landing gate holds it. */
function heldOnlyByLanding(issue: number): (line: ProgressLine) => boolean {
  return (line) => {
    if (!isEvent("PullRequestChecked", issue)(line)) return false;
    const { mergeability, checks } = line.event as Extract<CoordinatorEvent, { type: "PullRequestChecked" }>;
    return mergeability === "mergeable" && (checks === "none" || checks === "success");
  };
}

function explainRun(run: TrainRun): string {
  const lines = run.events.map((event) => JSON.stringify(event).slice(0, 300));
  return `exit ${String(run.status)}\n--- stderr\n${run.stderr.slice(-2000)}\n--- events\n${lines.join("\n").slice(-8000)}`;
}

/** Each verification of a landing, in order: whose, its result, and what was under it (the merges before its tip, then its cars ahead). */
function landings(events: readonly CoordinatorEvent[]): { issue: number; result: "passed" | "failed"; epoch: number; ahead: number[]; under: number[] }[] {
  const merged = ofType(events, "Merged").map((event) => event.issue);
  return events.flatMap((event) => {
    if (event.type !== "LandingVerified" && event.type !== "LandingFailed") return [];
    const ahead = (event.ahead ?? []).map((car) => car.issue);
    const result = event.type === "LandingVerified" ? ("passed" as const) : ("failed" as const);
    return [{ issue: event.issue, result, epoch: event.epoch, ahead, under: [...merged.slice(0, event.epoch), ...ahead] }];
  });
}

/** What both forges must show: the run's events and report, and every commit on main passing verify alone. */
async function judgeTrain(run: TrainRun, cars: readonly Car[], gitDir: string, fixtureHead: string): Promise<void> {
  const why = explainRun(run);
  expect(run.status, why).toBe(0);
  const [one, two, three, four] = cars.map((car) => car.number);
  if (one === undefined || two === undefined || three === undefined || four === undefined) throw new Error("a train of four needs four cars");

  // One train: all four verified at once on the tip the run started from, each behind the cars before it.
  const verified = landings(run.events);
  const firstOf = (n: number): unknown => {
    const landing = verified.find((l) => l.issue === n);
    return landing === undefined ? null : [landing.epoch, landing.ahead, landing.result];
  };
  expect(cars.map((car) => firstOf(car.number)), why).toEqual([
    [0, [], "passed"],
    [0, [one], "passed"],
    [0, [one, two], "failed"],
    [0, [one, two, three], "failed"],
  ]);
  // The fourth, verified on a tree that held the third, again without it; the third once more after its retry.
  const of = (n: number): unknown[] => verified.filter((l) => l.issue === n).map((l) => [l.result, l.under]);
  expect(of(one), why).toEqual([["passed", []]]);
  expect(of(two), why).toEqual([["passed", [one]]]);
  expect(of(four), why).toEqual([
    ["failed", [one, two, three]],
    ["passed", [one, two]],
  ]);
  expect(of(three), why).toEqual([
    ["failed", [one, two]],
    ["passed", [one, two, four]],
  ]);

  // #1, #2 and #4 merged on their first attempt; #3 was sent back with what changed underneath and merged on its second.
  expect(ofType(run.events, "Merged").map((event) => event.issue), why).toEqual([one, two, four, three]);
  // The fourth's failure behind the third was the third's, not the fourth's: it cost the fourth no attempt.
  const row = (n: number): unknown[] => [n, rowOf(run.report, n).status, rowOf(run.report, n).attempts, rowOf(run.report, n).failedAttempts];
  expect(cars.map((car) => row(car.number)), why).toEqual([
    [one, "merged", 1, 0],
    [two, "merged", 1, 0],
    [three, "merged", 2, 1],
    [four, "merged", 1, 0],
  ]);
  const retried = ofType(run.events, "Retried");
  expect(retried.map((event) => event.issue), why).toEqual([three]);
  const failure = retried[0]?.failure;
  expect(failure?.summary).toContain(`after #${String(one)}, #${String(two)}, though issue-${String(three)} alone passed`);
  expect(failure?.output).toContain("What changed underneath");
  expect(failure?.output).toContain(`#${String(two)} Rename greet to welcome`);
  expect(failure?.output).toMatch(/names\.txt \| +2 \+-/);
  expect(failure?.output).toContain("callers/hello.txt calls greet, which names.txt does not define");
  // And that is what the third's second attempt was launched with.
  const relaunched = ofType(run.events, "Launched").filter((event) => event.issue === three && event.attempt === 2);
  expect(relaunched.map((event) => event.prompt), why).toEqual([{ kind: "retry", attempt: 2, maxAttempts: 2, failure }]);
  // The tip alone was verified once, before any agent started; after that every tip was a verified car's squash.
  expect(ofType(run.events, "BaseVerified").map((event) => [event.epoch, event.passed]), why).toEqual([[0, true]]);

  // Every commit the run put on main passes verify, checked out alone.
  const verdicts = await verifyEachCommit(gitDir, fixtureHead, "main", "sh check.sh");
  expect(verdicts.map((v) => [v.subject.replace(/ \((?:closes )?#\d+\)$/, ""), v.exitCode, v.output]).sort(), why).toEqual(
    cars.map((car) => [car.title, 0, "all callers resolve\n"]).sort(),
  );
}

describe("the merge train", () => {
  it("on the local forge: a train of four where the third fails behind the second; the others merge, the fourth after being verified again without the third, which retries and merges", async () => {
    const cars = trainOfFour(81);
    const issues: Record<number, string> = {};
    for (const car of cars) issues[car.number] = issueFile(car.title, car.body);
    const p = await localProject({ name: "train-four", ...SETTINGS, files: FILES, issues });
    const run = await runTrain(p, cars);
    await judgeTrain(run, cars, p.remote, p.repo.head);
    expect([p.git("show", "main:names.txt"), p.git("show", "main:callers/hello.txt")]).toEqual(["welcome", "welcome"]);
    expect(p.git("for-each-ref", "--format=%(refname:short)", "refs/heads/")).toBe("main");
  }, 600_000);

  it("on GitHub (the simulator): the same train, and each squash commit's tree is a tree that was verified", async () => {
    const cars = trainOfFour(91);
    const p = await githubProject({ name: "train-four-gh", ...SETTINGS, files: FILES, issues: cars });
    const run = await runTrain(p, cars);
    await judgeTrain(run, cars, p.simulator.world.git.dir, p.repo.head);
    expect([p.git("show", "main:names.txt"), p.git("show", "main:callers/hello.txt")]).toEqual(["welcome", "welcome"]);
    // The trees were compared after each merge, and matched.
    expect(ofType(run.events, "LandingMismatched")).toEqual([]);
    const passedTrees = new Set(ofType(run.events, "LandingVerified").map((event) => event.tree));
    for (const merged of ofType(run.events, "Merged")) expect(passedTrees).toContain(p.git("rev-parse", `${merged.squashSha}^{tree}`));
    expect(p.pulls()).toEqual(cars.map((car): [string, boolean] => [`issue-${String(car.number)}`, true]));
  }, 600_000);
});
