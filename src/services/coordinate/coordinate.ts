import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { decodeEvent } from "../../core/coordinator/codec.ts";
import { encodeEvent } from "../../core/coordinator/codec.ts";
import { runReport, type RunReport } from "../../core/coordinator/report.ts";
import { replay, type CoordinatorState } from "../../core/coordinator/state.ts";
import type { RunSettings } from "../../core/coordinator/vocabulary.ts";
import { reportMarkdown } from "../../core/coordinator-runtime/report-table.ts";
import type { ProgressListener } from "../../core/coordinator-runtime/progress.ts";
import type { EventStore } from "../../core/coordinator-store/port.ts";
import { UserError } from "../../core/errors.ts";
import type { Forge } from "../../core/forge/port.ts";
import type { Issue } from "../../core/issues/issue.ts";
import { featureBranchFor, needsDefaultBranch } from "../../core/plan/feature-branch.ts";
import { openProject, type OpenedProject, type PortOverrides } from "../project.ts";
import { loadTemplates } from "../templates/templates.ts";
import { loadRunIssues } from "./load-run.ts";
import { promptRenderer } from "./prompts.ts";
import { runCoordinatorLoop } from "./runtime.ts";

export interface CoordinateOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly numbers?: readonly number[] | undefined;
  readonly label?: string | undefined;
  readonly milestone?: string | undefined;
  readonly featureBranch?: string | undefined;
  readonly maxParallel?: number | undefined;
  readonly agent?: string | undefined;
  readonly resume?: boolean | undefined;
  /** Remove the instances when the run ends (they are kept for inspection otherwise). */
  readonly down?: boolean | undefined;
  readonly onProgress?: ProgressListener | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly ports?: PortOverrides | undefined;
  /** Test knobs: the probe interval and the delay before a failed action runs again. */
  readonly probeIntervalMs?: number | undefined;
  readonly retryDelayMs?: number | undefined;
}

export interface CoordinateResult {
  readonly runId: string;
  readonly report: RunReport;
  readonly exitCode: 0 | 1;
  /** The markdown copy of the report. */
  readonly reportFile: string;
}

/**
 * `cspace coordinate`: the durable shell around the coordinator's pure core.
 * Takes the project's coordinator lock (a second coordinator is refused,
 * naming the first), starts a run (or, with `resume`, replays the latest
 * one's log), loads the issues and the graph, makes the feature branch if
 * missing, and runs the loop until `RunFinished`. Every event is durable
 * before anything acts on it, so a crash at any point is resumed from the log.
 */
export async function coordinate(options: CoordinateOptions): Promise<CoordinateResult> {
  const project = await openProject({
    cwd: options.cwd,
    env: options.env,
    overrides: {
      ...(options.featureBranch === undefined && options.maxParallel === undefined
        ? {}
        : { coordinator: { ...(options.featureBranch === undefined ? {} : { featureBranch: options.featureBranch }), ...(options.maxParallel === undefined ? {} : { maxParallel: options.maxParallel }) } }),
      ...(options.agent === undefined ? {} : { agent: { preset: options.agent as never } }),
    },
    overrideSources: { "coordinator.featureBranch": "flag --feature-branch", "coordinator.maxParallel": "flag --max-parallel", "agent.preset": "flag --agent" },
    ports: options.ports,
  });
  // The engine answers before a run starts (exit 3 with a hint otherwise), as for warm: a run whose every
  // instance fails to warm would be recorded as failed issues when nothing about them was wrong.
  await project.ports.runtime();
  const held = await (await project.ports.coordinatorLock()).acquire();
  try {
    const [store, forge] = await Promise.all([project.ports.eventStore(), project.ports.forge()]);
    const opened = options.resume === true ? await resumeRun(store, forge) : await startRun(project, store, forge, options);
    const [branches, workers, operator, templates] = await Promise.all([project.ports.branches(), project.ports.workers(), project.ports.operator(), loadTemplates(project)]);
    let settings: RunSettings | null = opened.state.run?.settings ?? null;
    try {
      const state = await runCoordinatorLoop({
        store,
        runId: opened.runId,
        forge,
        branches,
        workers,
        operator,
        state: opened.state,
        renderPrompt: promptRenderer({ templates, issues: opened.issues, settings: () => settings, repo: forge.repo }),
        onProgress: (progress) => {
          if (progress.kind === "event" && progress.event.type === "RunStarted") settings = progress.event.settings;
          options.onProgress?.(progress);
        },
        probeIntervalMs: options.probeIntervalMs,
        retryDelayMs: options.retryDelayMs,
        signal: options.signal,
      });
      return await finish(project, opened.runId, state);
    } finally {
      await workers.close({ down: options.down === true });
    }
  } finally {
    await held.release();
  }
}

interface OpenedRun {
  readonly runId: string;
  readonly state: CoordinatorState;
  readonly issues: ReadonlyMap<number, Issue>;
}

async function startRun(project: OpenedProject, store: EventStore, forge: Forge, options: CoordinateOptions): Promise<OpenedRun> {
  const latest = await store.latestRun();
  if (latest !== undefined) {
    const state = replay((await store.read(latest.runId)).map(decodeEvent));
    if (state.finished === null && state.run !== null) {
      throw new UserError(`run ${latest.runId} has not finished`, { hint: "cspace coordinate --resume carries it on; cspace status shows where it is" });
    }
  }
  const loaded = await loadRunIssues(forge, { numbers: options.numbers ?? [], label: options.label, milestone: options.milestone });
  if (loaded.selected.length === 0) throw new UserError("no open issue matches the selection", { hint: "cspace plan shows what a selection picks" });
  const sources = { flag: options.featureBranch, configured: project.config.coordinator.featureBranch, milestone: options.milestone };
  const defaultBranch = await forge.defaultBranch();
  const featureBranch = featureBranchFor(needsDefaultBranch(sources) ? { ...sources, defaultBranch } : sources);
  if ((await forge.branchHead(featureBranch)) === null) {
    const from = await forge.branchHead(defaultBranch);
    if (from === null) throw new UserError(`the default branch ${defaultBranch} is not on the forge`, { hint: "push it first" });
    await forge.createBranch(featureBranch, from);
  }
  const { coordinator, verify } = project.config;
  const settings: RunSettings = {
    featureBranch,
    maxParallel: coordinator.maxParallel,
    maxAttempts: coordinator.maxAttempts,
    review: coordinator.review,
    stacking: coordinator.stacking,
    verify: { all: verify.all ?? null, e2e: verify.e2e ?? null },
  };
  const now = new Date();
  const runId = await store.startRun({ selected: [...loaded.selected], featureBranch }, now);
  const events = [loaded.started(runId, settings, now.toISOString()), loaded.loaded(now.toISOString())];
  await store.append(runId, events.map(encodeEvent));
  return { runId, state: replay(events), issues: loaded.issues };
}

/** The latest run's log replayed, and the issues read again (a fresh `IssuesLoaded`: someone may have closed one meanwhile). */
async function resumeRun(store: EventStore, forge: Forge): Promise<OpenedRun> {
  const latest = await store.latestRun();
  if (latest === undefined) throw new UserError("there is no run to resume", { hint: "cspace coordinate <issues…> starts one" });
  const past = replay((await store.read(latest.runId)).map(decodeEvent));
  if (past.run === null) throw new UserError(`run ${latest.runId} has no start recorded; start a new one`, { hint: "cspace coordinate <issues…>" });
  if (past.finished !== null) return { runId: latest.runId, state: past, issues: new Map() };
  const loaded = await loadRunIssues(forge, { numbers: past.run.selected });
  const event = loaded.loaded(new Date().toISOString());
  await store.append(latest.runId, [encodeEvent(event)]);
  return { runId: latest.runId, state: replay([...(await store.read(latest.runId)).map(decodeEvent)]), issues: loaded.issues };
}

async function finish(project: OpenedProject, runId: string, state: CoordinatorState): Promise<CoordinateResult> {
  const report = await withEgressDenials(project, runReport(state));
  const dir = path.join(project.runDir, "runs", runId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const reportFile = path.join(dir, "report.md");
  await writeFile(reportFile, reportMarkdown(report));
  return { runId, report, exitCode: report.exitCode, reportFile };
}

/** The report with the egress proxy's denials since the run started, when workers run on an allowlist. */
export async function withEgressDenials(project: OpenedProject, report: RunReport): Promise<RunReport> {
  if (typeof project.config.container.network !== "object") return report;
  const { egressDenials } = await import("../warm/egress.ts");
  const denied = await egressDenials(await project.ports.runtime(), project.projectId, report.startedAt ?? undefined);
  return { ...report, egressDenied: denied };
}
