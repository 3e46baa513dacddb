import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { encodeEvent } from "../../core/coordinator/codec.ts";
import type { CoordinatorEvent } from "../../core/coordinator/events.ts";
import { replayLog, unreadableRunError, type LogProblem } from "../../core/coordinator/log.ts";
import { runReport, type RunReport } from "../../core/coordinator/report.ts";
import { replay, type CoordinatorState } from "../../core/coordinator/state.ts";
import type { RunSettings } from "../../core/coordinator/vocabulary.ts";
import { reportMarkdown, reviewMarkdown } from "../../core/coordinator-runtime/report-table.ts";
import type { ProgressListener } from "../../core/coordinator-runtime/progress.ts";
import type { EventStore } from "../../core/coordinator-store/port.ts";
import { durationMs } from "../../core/config/rules.ts";
import { UserError } from "../../core/errors.ts";
import type { Forge } from "../../core/forge/port.ts";
import type { Issue } from "../../core/issues/issue.ts";
import { featureBranchFor, needsDefaultBranch } from "../../core/plan/feature-branch.ts";
import { onlyTheLocalHost, workerHosts } from "../../core/hosts/hosts.ts";
import { openProject, type OpenedProject, type PortOverrides } from "../project.ts";
import { loadTemplates } from "../templates/templates.ts";
import { accountName } from "../../core/coordinator/usage-limits.ts";
import { loadConfig } from "../config.ts";
import { budgetOf, costlessAgent } from "./budget-config.ts";
import { priceFor } from "../../core/agents/token-price.ts";
import { loadRunIssues } from "./load-run.ts";
import { nudgeRenderer, promptRenderer } from "./prompts.ts";
import { withEgressDenials } from "./egress-report.ts";
import { runCoordinatorLoop } from "./runtime.ts";
import { Notifier, NOTIFY_COMMAND_TIMEOUT_MS } from "./notifier.ts";
import { notifiedCauses } from "../../core/notify/notification.ts";
import { runNotifyCommand } from "../../adapters/notify/run-command.ts";
import { dashboardModel } from "../../core/dashboard/build.ts";
import { parentSelection } from "../issues/parent.ts";
import { ProgressComment, type DashboardModelBuilder } from "./progress-comment.ts";
import { refusalOf } from "../../core/doctor/preflight.ts";
import { localAheadNotice } from "../forge-drift.ts";

/** What the parent issue's progress comment renders: exactly what the dashboard shows. */
const progressModel: DashboardModelBuilder = dashboardModel;

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
  /** `--fresh`: issues whose first launch discards the `issue-N` an earlier run left (fold-fresh.ts). */
  readonly fresh?: readonly number[] | undefined;
  readonly onProgress?: ProgressListener | undefined;
  readonly signal?: AbortSignal | undefined;
  readonly ports?: PortOverrides | undefined;
  /** Test knobs: the probe interval, the first delay before a failed action runs again, and `verify.timeout` in ms. */
  readonly probeIntervalMs?: number | undefined;
  readonly retryDelayMs?: number | undefined;
  readonly verifyTimeoutMs?: number | undefined;
  /** Test knob: how long `notify.command` may run (10 s by default). */
  readonly notifyTimeoutMs?: number | undefined;
  /** `--parent 42`: the run takes the sub-issues of #42 (and `numbers` beside them); recorded, so a resumed run keeps it. */
  readonly parent?: number | undefined;
  /** Test knob: the progress comment's interval between routine edits (default 30 s). */
  readonly progressIntervalMs?: number | undefined;
  /** Bench knob: `false` merges without verifying the landing tree, as before issue 14 (bench/coordinate compares the two); no flag or config key offers it. */
  readonly verifyLanding?: boolean | undefined;
  /** Called once the run is opened (started, or resumed from its log), before its loop: the dashboard follows this run. */
  readonly onRunOpened?: ((runId: string) => void) | undefined;
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
    // What the workers need is checked before anything is made (a run, a branch, a container): every finding at once, exit 2.
    const preflight = (await (await project.ports.workers()).preflight?.(options.signal)) ?? [];
    const refusal = refusalOf(preflight);
    if (refusal !== null) throw refusal;
    for (const check of preflight.filter((c) => c.status === "warn")) {
      options.onProgress?.({ kind: "notice", at: new Date().toISOString(), text: `${check.title}: ${check.detail}${check.hint === undefined ? "" : ` (${check.hint})`}` });
    }
    // The templates are read before a run is started: one that is missing or broken is a user error
    // that must not leave an unfinished run behind, blocking the next one.
    const templates = await loadTemplates(project);
    const [store, forge] = await Promise.all([project.ports.eventStore(), project.ports.forge()]);
    const opened = options.resume === true ? await resumeRun(store, forge, options.fresh ?? []) : await startRun(project, store, forge, options);
    // A new run whose start fails before anything was launched ends here, recorded as abandoned with the reason:
    // nothing of it runs, and the next `cspace coordinate` may start.
    const [branches, workers, operator] = await Promise.all([project.ports.branches(), project.ports.workers(), project.ports.operator()]).catch(async (error: unknown) => {
      if (options.resume !== true) await endUnstartedRun(store, opened.runId, error);
      throw error;
    });
    let settings: RunSettings | null = opened.state.run?.settings ?? null;
    options.onRunOpened?.(opened.runId);
    const notifier = await startNotifier(project, store, opened, options);
    const comment = progressCommentFor(project, forge, opened, options);
    await comment?.start();
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
          comment?.observe(progress);
          notifier.listener(progress);
        },
        probeIntervalMs: options.probeIntervalMs,
        retryDelayMs: options.retryDelayMs,
        account: accountName(project.config.agent.preset, project.config.agent.passEnv),
        // Re-read on each resume: an operator who raised coordinator.budget in the file gets the new ceilings.
        budget: async () => budgetOf((await loadConfig({ cwd: options.cwd, env: options.env })).config),
        costless: costlessAgent(project.config.agent.preset, priceFor(project.config.coordinator.prices, project.config.agent.preset, project.config.agent.model ?? null) !== null),
        verifyTimeout: options.verifyTimeoutMs === undefined
          ? { ms: durationMs(project.config.verify.timeout), text: project.config.verify.timeout }
          : { ms: options.verifyTimeoutMs, text: `${String(options.verifyTimeoutMs)} ms` },
        signal: options.signal,
        nudgeText: nudgeRenderer({ templates, issues: opened.issues, settings: () => settings, repo: forge.repo }),
      });
      await notifier.finish(state);
      const result = await finish(project, opened.runId, state, store);
      await comment?.finish(result.report.review === undefined ? null : reviewMarkdown(result.report.review, result.report.startedAt).join("\n"));
      return result;
    } finally {
      // A run stopped early (interrupted, failed) leaves the comment as the run stood; it never holds the stop up for long.
      await comment?.finish(null);
      await workers.close({ down: options.down === true });
    }
  } finally {
    await held.release();
  }
}

/**
 * The run's notifier (notifier.ts), told what the log says was sent already; it sends at once what a crash left
 * unsent. `notify.command` runs in the project directory with the user's environment.
 */
async function startNotifier(project: OpenedProject, store: EventStore, opened: OpenedRun, options: CoordinateOptions): Promise<Notifier> {
  const command = project.config.notify.command;
  const notifier = new Notifier({
    store,
    runId: opened.runId,
    state: opened.state,
    notified: notifiedCauses(replayLog(await store.read(opened.runId)).events),
    deliver: command === undefined ? undefined : (notification) => runNotifyCommand(command, notification, { timeoutMs: options.notifyTimeoutMs ?? NOTIFY_COMMAND_TIMEOUT_MS, cwd: project.projectDir, env: options.env }),
    onProgress: options.onProgress,
  });
  notifier.check();
  return notifier;
}

interface OpenedRun {
  readonly runId: string;
  readonly state: CoordinatorState;
  readonly issues: ReadonlyMap<number, Issue>;
}

async function startRun(project: OpenedProject, store: EventStore, forge: Forge, options: CoordinateOptions): Promise<OpenedRun> {
  const latest = await store.latestRun();
  if (latest !== undefined) {
    const { state, problems } = replayLog(await store.read(latest.runId));
    if (state.finished === null && state.run !== null) {
      if (problems.length > 0) throw unreadableRunError(latest.runId, problems);
      throw new UserError(`run ${latest.runId} has not finished`, {
        hint: "cspace coordinate --resume carries it on, or cspace coordinate --abandon gives it up; cspace status shows where it is",
      });
    }
  }
  const parent = options.parent === undefined ? null : await parentSelection(forge, options.parent, options.numbers ?? []);
  for (const text of parent?.notices ?? []) options.onProgress?.({ kind: "notice", at: new Date().toISOString(), text });
  const loaded = await loadRunIssues(forge, { numbers: parent?.numbers ?? options.numbers ?? [], label: options.label, milestone: options.milestone });
  if (loaded.selected.length === 0) throw new UserError("no open issue matches the selection", { hint: "cspace plan shows what a selection picks" });
  const fresh = options.fresh ?? [];
  assertFreshInRun(fresh, loaded.selected, () => []);
  const sources = { flag: options.featureBranch, configured: project.config.coordinator.featureBranch, milestone: options.milestone };
  const defaultBranch = await forge.defaultBranch();
  const featureBranch = featureBranchFor(needsDefaultBranch(sources) ? { ...sources, defaultBranch } : sources);
  let featureHead = await forge.branchHead(featureBranch);
  const compared: [string, string][] = [];
  if (featureHead === null) {
    const from = await forge.branchHead(defaultBranch);
    if (from === null) throw new UserError(`the default branch ${defaultBranch} is not on the forge`, { hint: "push it first" });
    await forge.createBranch(featureBranch, from);
    featureHead = from;
    // Made from the forge's default branch: the user's commits on theirs are what would be missing.
    if (featureBranch !== defaultBranch) compared.push([defaultBranch, from]);
  }
  compared.push([featureBranch, featureHead]);
  // The run starts from the forge's branch: commits only the user's checkout has are not in it, and that is said.
  for (const [branch, sha] of compared) {
    const notice = await localAheadNotice(project, branch, sha);
    if (notice !== null) options.onProgress?.({ kind: "notice", at: new Date().toISOString(), text: notice });
  }
  const { coordinator, verify } = project.config;
  const settings: RunSettings = {
    featureBranch,
    maxParallel: coordinator.maxParallel,
    maxAttempts: coordinator.maxAttempts,
    review: coordinator.review,
    stacking: coordinator.stacking,
    onUsageLimit: coordinator.onUsageLimit,
    verify: { all: verify.all ?? null, e2e: verify.e2e ?? null },
    // Only verified trees land: every run started from now on verifies each merge candidate on the feature branch's tip.
    verifyLanding: options.verifyLanding ?? true,
    train: coordinator.train,
    stallMinutes: coordinator.stallMinutes,
    ...hostSlotsOf(project.config),
  };
  const now = new Date();
  const runId = await store.startRun({ selected: [...loaded.selected], featureBranch }, now);
  const parentEvent: CoordinatorEvent[] = options.parent === undefined ? [] : [{ type: "ParentSelected", at: now.toISOString(), parent: options.parent }];
  const events = [loaded.started(runId, settings, now.toISOString()), ...parentEvent, loaded.loaded(now.toISOString()), ...freshEvents(fresh, now.toISOString())];
  await store.append(runId, events.map(encodeEvent));
  return { runId, state: replay(events), issues: loaded.issues };
}

/** The parent's progress comment, when the run has a parent and `coordinator.progressComments` is on (read again on each resume). */
function progressCommentFor(project: OpenedProject, forge: Forge, opened: OpenedRun, options: CoordinateOptions): ProgressComment | null {
  const parent = opened.state.parent;
  if (parent === undefined || !project.config.coordinator.progressComments) return null;
  return new ProgressComment({
    forge,
    parent,
    runId: opened.runId,
    state: opened.state,
    model: progressModel,
    notice: (text) => options.onProgress?.({ kind: "notice", at: new Date().toISOString(), text }),
    intervalMs: options.progressIntervalMs,
  });
}

/** The latest run's log replayed, and the issues read again (a fresh `IssuesLoaded`: someone may have closed one meanwhile). */
async function resumeRun(store: EventStore, forge: Forge, fresh: readonly number[]): Promise<OpenedRun> {
  const latest = await store.latestRun();
  if (latest === undefined) throw new UserError("there is no run to resume", { hint: "cspace coordinate <issues…> starts one" });
  const { state: past, problems } = replayLog(await store.read(latest.runId));
  if (past.finished !== null) {
    if (fresh.length > 0) throw new UserError(`run ${latest.runId} has finished: --fresh applies to a new run`, { hint: `cspace coordinate <issues…> --fresh ${fresh.join(",")}` });
    return { runId: latest.runId, state: past, issues: new Map() };
  }
  // A run is only carried on from a log that reads whole: deciding from a state with a hole in it could redo or lose work.
  if (problems.length > 0) throw unreadableRunError(latest.runId, problems);
  if (past.run === null) throw new UserError(`run ${latest.runId} has no start recorded; start a new one`, { hint: "cspace coordinate <issues…>" });
  assertFreshInRun(fresh, past.run.selected, (n) => past.issues[n]?.attempts ?? []);
  const loaded = await loadRunIssues(forge, { numbers: past.run.selected });
  const now = new Date().toISOString();
  await store.append(latest.runId, [loaded.loaded(now), ...freshEvents(fresh, now)].map(encodeEvent));
  return { runId: latest.runId, state: replayLog(await store.read(latest.runId)).state, issues: loaded.issues };
}

/**
 * `--fresh` names issues of the run that have not started in it: an unknown
 * number is a typo that would otherwise be ignored, and one that started in
 * this run has no earlier run's branch left to discard.
 */
function assertFreshInRun(fresh: readonly number[], selected: readonly number[], attemptsOf: (n: number) => readonly unknown[]): void {
  const unknown = fresh.filter((n) => !selected.includes(n));
  if (unknown.length > 0) {
    throw new UserError(`--fresh names ${unknown.map((n) => `#${String(n)}`).join(", ")}, not in this run (${selected.map((n) => `#${String(n)}`).join(", ")})`, {
      hint: "--fresh takes issue numbers the run selects",
    });
  }
  const started = fresh.filter((n) => attemptsOf(n).length > 0);
  if (started.length > 0) {
    throw new UserError(`--fresh ${started.join(",")}: already started in this run, so there is no earlier run's branch to discard`, {
      hint: "cspace coordinate --abandon, then cspace coordinate <issues…> --fresh <N> starts them over",
    });
  }
}

function freshEvents(fresh: readonly number[], at: string): CoordinatorEvent[] {
  return fresh.map((issue) => ({ type: "FreshStartRequested", at, issue, by: "flag" }));
}

/** Ends a run that never launched anything, with why: its log stays for `cspace status`, and it blocks no later run. */
async function endUnstartedRun(store: EventStore, runId: string, error: unknown): Promise<void> {
  const reason = `the run could not start: ${error instanceof Error ? error.message : String(error)}`;
  const event: CoordinatorEvent = { type: "RunFinished", at: new Date().toISOString(), exitCode: 1, abandoned: reason };
  // Best effort: the error that stopped the start is the one to report.
  await store.append(runId, [encodeEvent(event)]).catch(() => undefined);
}

export interface AbandonOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  readonly ports?: PortOverrides | undefined;
}

export interface AbandonResult {
  readonly runId: string;
  readonly report: RunReport;
  /** The events that could not be applied, which may be why it was abandoned. */
  readonly problems: readonly LogProblem[];
}

/**
 * `cspace coordinate --abandon`: ends the latest run where it stands, with a
 * `RunFinished` that says it was abandoned, so a new run can start. Nothing
 * is stopped or removed (instances, branches, pull requests stay as they
 * are), and the log is kept: `cspace status` still shows the run, with any
 * event that could not be applied. Takes the coordinator lock, so a running
 * coordinator's run is never abandoned under it.
 */
export async function abandonRun(options: AbandonOptions): Promise<AbandonResult> {
  const project = await openProject({ cwd: options.cwd, env: options.env, ports: options.ports });
  const held = await (await project.ports.coordinatorLock()).acquire();
  try {
    const store = await project.ports.eventStore();
    const latest = await store.latestRun();
    if (latest === undefined) throw new UserError("there is no run to abandon", { hint: "cspace coordinate <issues…> starts one" });
    const past = replayLog(await store.read(latest.runId));
    if (past.state.finished !== null) {
      throw new UserError(`run ${latest.runId} has already finished: there is nothing to abandon`, { hint: "cspace coordinate <issues…> starts a new one" });
    }
    const event: CoordinatorEvent = { type: "RunFinished", at: new Date().toISOString(), exitCode: 1, abandoned: "abandoned by the operator (cspace coordinate --abandon)" };
    await store.append(latest.runId, [encodeEvent(event)]);
    const { state, problems } = replayLog(await store.read(latest.runId));
    return { runId: latest.runId, report: runReport(state, problems), problems };
  } finally {
    await held.release();
  }
}

async function finish(project: OpenedProject, runId: string, state: CoordinatorState, store: EventStore): Promise<CoordinateResult> {
  // The log as written, for the time splits and the review: they walk the events, not only the state they fold into.
  const { events } = replayLog(await store.read(runId));
  const report = await withEgressDenials(project, runReport(state, [], events));
  const dir = path.join(project.runDir, "runs", runId);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const reportFile = path.join(dir, "report.md");
  await writeFile(reportFile, reportMarkdown(report));
  return { runId, report, exitCode: report.exitCode, reportFile };
}

/** Each host's slots, when more than the local engine is configured: the run then launches on a host only while it has one free. */
function hostSlotsOf(config: OpenedProject["config"]): Pick<RunSettings, "hostSlots"> {
  const hosts = workerHosts(config);
  return onlyTheLocalHost(hosts) ? {} : { hostSlots: Object.fromEntries(hosts.map((host) => [host.name, host.slots])) };
}
