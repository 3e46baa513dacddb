import { randomBytes } from "node:crypto";
import { readFileSync, unlinkSync } from "node:fs";
import type { AgentPreset, FollowUp, Invocation, LineFacts, StartInput } from "../../core/agents/preset.ts";
import type { UsageLimit } from "../../core/agents/usage-limit.ts";
import { nextUsageLimit } from "./usage-limit.ts";
import type { AgentState, UnreportedSpend, WorkerEvent, WorkerReport, WorkerStatus } from "../../core/agents/worker-status.ts";
import type { Launch } from "../../core/messaging/launch.ts";
import { cutTo, errorReply, MAX_REPORT_SUMMARY_CHARS, okReply, type Reply, type Request } from "../../core/messaging/protocol.ts";
import { jsonObject } from "../../core/agents/presets/json-line.ts";
import { addCost, UsageLedger } from "../../core/agents/usage-ledger.ts";
import { tokenCost } from "../../core/agents/token-price.ts";
import { FinalText } from "../../core/agents/final-text.ts";
import { messageOf } from "../../adapters/messaging/socket-file.ts";
import { AgentProcess, type AgentExit } from "./agent-process.ts";
import type { EventsLog } from "./events-log.ts";
import { gitFacts, headSha } from "./git-facts.ts";
import { oomKills } from "./oom.ts";
import type { Outbox } from "./outbox.ts";
import { OutputTail, outcomeOf, reportId } from "./outcome.ts";
import { StateWriter, type StateFile } from "./state-file.ts";
import { stopProcess } from "./stop.ts";

export interface SupervisorDeps {
  readonly launch: Launch;
  readonly preset: AgentPreset;
  /** The first turn's text (the prompt file, with a restart's note). */
  readonly prompt: string;
  readonly events: EventsLog;
  readonly outbox: Outbox;
  readonly stateFile: string;
  readonly blockedFile: string;
  /** The agent's environment: the supervisor's own (set by the host), plus where its instance directory is. */
  readonly env: NodeJS.ProcessEnv;
  readonly oomFiles: readonly string[];
  readonly log: (message: string) => void;
}

interface QueuedMessage {
  readonly text: string;
  readonly from: string;
}

/** One run of the agent process (an invocation) and what was learnt from its output. */
interface Run {
  readonly agent: AgentProcess;
  readonly startedAt: Date;
  readonly tail: OutputTail;
  readonly oomBefore: number | null;
  /** This run's own turns and cost (UsageLedger's shares): what its report says. */
  turns: number;
  costUsd: number | null;
  /** Some of `costUsd` is tokens priced by `coordinator.prices` (launch.json's tokenPrice), not a cost the agent stated. */
  costEstimated: boolean;
  /** Sessions whose start this run has shown: Claude Code says `init` at every turn, the log says it once. */
  readonly announced: Set<string>;
  /** Keys the running total of an agent without sessions (aider's "$X session" is its process's). */
  readonly key: string;
  readonly finalText: FinalText;
  /** The usage limit the agent last said it hit, unless a turn since ended well (usage-limit.ts). */
  usageLimit: UsageLimit | null;
  stoppedByUs: boolean;
  /**
   * Messages written to stdin that the agent has not answered yet (it said
   * nothing since). If the process exits first they go back to the front of
   * the queue: a message is taken when the agent responds, not when it is written.
   */
  readonly inFlight: QueuedMessage[];
  /** What the runs before this one in the same report did (see Carried), or null when this run's report is its own. */
  readonly carried: Carried | null;
  /** Resolves once the agent exited and its report (this run's, or the follow-up's that covers it) is in the outbox. */
  done: Promise<WorkerReport>;
}

/**
 * A run that ended while a message waited is not reported on its own: the
 * message runs first as its follow-up turn, and that run's report covers both.
 * Otherwise a one-shot CLI (codex, gemini, opencode) would report "done" and
 * the coordinator push and merge before the follow-up's commits exist.
 */
interface Carried {
  readonly turns: number;
  readonly costUsd: number | null;
  readonly costEstimated: boolean;
  readonly startedAt: Date;
}

/** What the run's report will hold, so far: its own turns and cost, and those of the runs it carries. */
function unreportedOf(run: Run): UnreportedSpend {
  return {
    turns: (run.carried?.turns ?? 0) + run.turns,
    costUsd: addCost(run.carried?.costUsd ?? null, run.costUsd),
    since: (run.carried?.startedAt ?? run.startedAt).toISOString(),
  };
}

export interface ShutdownResult {
  readonly reportId: string | null;
  /** Messages that never reached the agent (they are in events.ndjson too). */
  readonly undelivered: readonly string[];
}

/**
 * The supervisor's heart: runs the agent per its preset, turns its output
 * into events and status, queues messages and delivers them when the agent
 * can take them, and writes a report each time the agent exits. It outlives
 * the agent: after an exit it keeps answering, and a message starts a new run.
 */
export class Supervisor {
  readonly #deps: SupervisorDeps;
  readonly #input: StartInput;
  readonly #state: StateWriter;
  readonly #queue: QueuedMessage[] = [];
  #agentState: AgentState = "starting";
  #run: Run | null = null;
  #sessionId: string | null;
  #exitCode: number | null = null;
  #signal: string | null = null;
  /** Turns and cost of the invocations that ended; the running one's are added in status(). */
  readonly #ledger = new UsageLedger();
  #runs = 0;
  #priorTurns = 0;
  #priorCost: number | null = null;
  #headSha: string | null = null;
  #startedAt = new Date();
  #lastActivity = new Date();
  #stopping: Promise<ShutdownResult> | null = null;
  /** The API error the agent retries now (its last line said so), for status. */
  #apiRetry: string | null = null;
  /** Stopped for `cspace restart`: the interrupted run's report says the attempt goes on. */
  #restarting = false;
  /** Some cost this supervisor counted is priced tokens (status says so). */
  #costEstimated = false;
  #started = false;

  constructor(deps: SupervisorDeps) {
    this.#deps = deps;
    const { launch } = deps;
    this.#sessionId = launch.resumeSessionId;
    // A restart resumes a session another supervisor counted: its running total so far is not this one's to count.
    if (launch.resumeSessionId !== null) this.#ledger.resumed(launch.resumeSessionId, launch.resumedCostUsd);
    // A restart: status goes on from what the supervisors before counted (their reports are sent; this one's never repeat them).
    this.#priorTurns = launch.priorTurns ?? 0;
    this.#priorCost = launch.priorCostUsd ?? null;
    this.#input = { prompt: deps.prompt, promptFile: launch.promptFile, model: launch.model, resumeSessionId: launch.resumeSessionId, command: launch.command, commandInput: launch.commandInput };
    this.#state = new StateWriter(deps.stateFile, () => this.#stateFile());
  }

  /** Starts the first run; messages that arrived before it wait for it (they are follow-ups, not the task). */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#startRun(() => this.#deps.preset.start(this.#input), "start");
    void this.#refreshHead();
  }

  status(): WorkerStatus {
    const { launch, preset } = this.#deps;
    return {
      instance: launch.instance,
      preset: preset.name,
      state: this.#agentState,
      exitCode: this.#exitCode,
      signal: this.#signal,
      turns: this.#priorTurns + (this.#run?.turns ?? 0),
      costUsd: addCost(this.#priorCost, this.#run?.costUsd ?? null),
      sessionId: this.#sessionId,
      lastActivity: this.#lastActivity.toISOString(),
      queueDepth: this.#queue.length,
      branch: launch.branch,
      headSha: this.#headSha,
      pid: process.pid,
      startedAt: this.#startedAt.toISOString(),
      ...(this.#apiRetry === null ? {} : { apiRetry: this.#apiRetry }),
      ...(this.#run === null ? {} : { unreported: unreportedOf(this.#run) }),
      ...(this.#costEstimated ? { costEstimated: true as const } : {}),
    };
  }

  /** Answers one request on w.sock. Synchronous up to the first await, so sends keep their order. */
  handle(request: Request): Reply | Promise<Reply> {
    switch (request.cmd) {
      case "status":
        return okReply(request.id, { status: this.status() });
      case "send":
        return this.#send(request);
      case "interrupt":
        return this.#interrupt(request);
      case "shutdown":
        return this.shutdown({ restart: request.text === "restart" }).then((result) => okReply(request.id, { ...result }));
      case "report":
        return errorReply(request.id, "unknown-command", "report is a coordinator command; this is a worker's socket");
    }
  }

  /** Stops the agent (its report is written), tries once to deliver what is pending, and takes nothing more. */
  shutdown(options: { readonly restart?: boolean } = {}): Promise<ShutdownResult> {
    if (this.#stopping === null && options.restart === true) this.#restarting = true;
    this.#stopping ??= (async () => {
      this.#event("supervisor", "shutdown");
      const run = this.#run;
      let id: string | null = null;
      if (run !== null) {
        await this.#stop(run);
        id = (await run.done).id;
      }
      await Promise.race([this.#deps.outbox.nudge(), new Promise((resolve) => setTimeout(resolve, 3000))]);
      const undelivered = this.#queue.map((message) => message.text);
      if (undelivered.length > 0) this.#event("supervisor", "undelivered", `${String(undelivered.length)} message(s) never reached the agent`, { messages: undelivered });
      this.#state.now();
      this.#state.stop();
      return { reportId: id, undelivered };
    })();
    return this.#stopping;
  }

  #send(request: Request): Reply {
    if (this.#stopping !== null) return errorReply(request.id, "not-running", "the supervisor is shutting down; the message was not queued");
    const text = request.text ?? "";
    const from = request.from ?? "unknown";
    this.#queue.push({ text, from });
    this.#event("message", "queued", text, { from, queueDepth: this.#queue.length });
    // Only the queue's depth changed: state.json (what list reads when it cannot ask) may lag a second; an fsync'd
    // rename per message capped sends at ~1,000/s on ext4 (bench/messaging). Delivery rewrites it at once.
    this.#state.soon();
    const queueDepth = this.#queue.length;
    this.#pump();
    return okReply(request.id, { queued: true, queueDepth });
  }

  async #interrupt(request: Request): Promise<Reply> {
    const run = this.#run;
    if (run === null) return errorReply(request.id, "not-running", `the agent is not running (state ${this.#agentState})`);
    this.#event("supervisor", "interrupt", undefined, { from: request.from ?? "unknown" });
    await this.#stop(run);
    const report = await run.done;
    return okReply(request.id, { reportId: report.id, outcome: report.outcome });
  }

  async #stop(run: Run): Promise<void> {
    run.stoppedByUs = true;
    await stopProcess(run.agent, this.#deps.launch.stopGraceMs, (signal) => { this.#event("supervisor", "signal", signal); });
  }

  /**
   * Delivers the next queued message if the agent can take it now: as a
   * stdin line to a session-keeping agent between turns, or as a new run
   * once none is running. With nothing queued, a session-keeping agent
   * between turns has finished its work: its stdin is closed so it exits.
   */
  #pump(): void {
    const run = this.#run;
    const { preset } = this.#deps;
    if (this.#stopping !== null || !this.#started) return;
    if (run !== null) {
      const anytime = preset.takesMessagesWhileWorking?.(this.#input) ?? false;
      if ((this.#agentState !== "idle" && !anytime) || !run.agent.stdinOpen) return;
      const next = this.#queue[0];
      if (next === undefined) {
        if (preset.closeStdinToFinish) {
          run.agent.closeStdin();
          this.#event("supervisor", "stdin-closed", "no message waiting: the session may end");
        }
        return;
      }
      let followUp: FollowUp;
      try {
        followUp = preset.followUp(next.text, { sessionId: this.#sessionId, input: this.#input });
      } catch (error) {
        // A preset bug: the message stays queued (never dropped) and is tried again with the next run.
        this.#deps.log(`the ${preset.name} preset cannot deliver a message: ${messageOf(error)}`);
        return;
      }
      // A preset that wants a new run for this message gets it once the current one is over.
      if (followUp.kind !== "stdin") {
        if (preset.closeStdinToFinish) run.agent.closeStdin();
        return;
      }
      this.#queue.shift();
      run.inFlight.push(next);
      run.agent.writeLine(followUp.line);
      this.#setState("working");
      this.#event("message", "delivered", next.text, { from: next.from, via: "stdin" });
      return;
    }
    this.#startFollowUp(null);
  }

  /** Starts the next queued message as a new run (null when none waits). */
  #startFollowUp(carried: Carried | null): Run | null {
    const next = this.#queue.shift();
    if (next === undefined) return null;
    const run = this.#startRun(() => this.#invocationFor(next.text), "message", carried);
    this.#event("message", "delivered", next.text, { from: next.from, via: "invocation" });
    return run;
  }

  /**
   * A message for an agent that is not running: a session-keeping preset is
   * started again with the message as its first turn, resuming the session
   * where it can (preset.ts's FollowUp contract); others say how.
   */
  #invocationFor(text: string): Invocation {
    const { preset } = this.#deps;
    if (preset.keepsSession) return preset.start({ ...this.#input, prompt: text, resumeSessionId: preset.resumable ? this.#sessionId : null });
    const followUp = preset.followUp(text, { sessionId: this.#sessionId, input: this.#input });
    if (followUp.kind === "invoke") return followUp.invocation;
    return preset.start({ ...this.#input, prompt: text, resumeSessionId: preset.resumable ? this.#sessionId : null });
  }

  /** `make` may throw (a preset that cannot build its command line): the run then ends at once and is reported as a failure. */
  #startRun(make: () => Invocation, why: "start" | "message", carried: Carried | null = null): Run {
    const { launch } = this.#deps;
    let invocation: Invocation = { argv: [], stdin: { kind: "none" } };
    let notStarted: string | null = null;
    try {
      invocation = make();
    } catch (error) {
      notStarted = `the ${this.#deps.preset.name} preset could not build a command line: ${messageOf(error)}`;
      this.#deps.log(notStarted);
    }
    this.#clearBlocked();
    this.#setState("starting");
    const agent = new AgentProcess(invocation, launch.workdir, this.#deps.env, {
      stdoutLine: (line) => { this.#onStdout(line); },
      stderrLine: (line) => { this.#onStderr(line); },
      overlong: (stream) => { this.#event("supervisor", "overlong-line", `the agent wrote a ${stream} line too long to read; it was skipped`); },
    }, notStarted);
    const run: Run = {
      agent,
      startedAt: new Date(),
      tail: new OutputTail(),
      oomBefore: oomKills(this.#deps.oomFiles),
      turns: 0,
      costUsd: null,
      costEstimated: false,
      announced: new Set(),
      key: `run ${String(++this.#runs)}`,
      finalText: new FinalText(),
      usageLimit: null,
      stoppedByUs: false,
      inFlight: [],
      carried,
      done: agent.exited.then((exit) => this.#onExit(run, exit)),
    };
    this.#run = run;
    this.#startedAt = run.startedAt;
    this.#exitCode = null;
    this.#signal = null;
    this.#event("supervisor", "started", invocation.argv.join(" "), { why, pid: agent.identity?.pid ?? null, stdin: invocation.stdin.kind });
    if (agent.identity !== null) this.#setState("working");
    return run;
  }

  #onStderr(line: string): void {
    let events: LineFacts["events"];
    try {
      events = this.#deps.preset.parseStderrLine?.(line) ?? [];
    } catch {
      // A line the preset cannot read is kept as it is.
      events = [];
    }
    if (events.length === 0) {
      this.#run?.tail.push(line);
      this.#event("agent", "stderr", line);
      return;
    }
    for (const event of events) {
      this.#event("agent", event.type, event.text, event.data);
      if (event.type === "api-retry") this.#apiRetry = event.text ?? null;
    }
  }

  #onStdout(line: string): void {
    const run = this.#run;
    if (run === null) return;
    // Messages are written only to an idle agent, so anything it says next is its answer: they were taken.
    run.inFlight.length = 0;
    let facts;
    try {
      facts = this.#deps.preset.parseLine(line);
    } catch (error) {
      facts = { events: [{ type: "raw", text: line, data: { parseError: messageOf(error) } }] };
    }
    for (const event of facts.events) {
      if (event.type === "started") {
        const session = facts.sessionId ?? "";
        if (run.announced.has(session)) continue;
        run.announced.add(session);
      }
      this.#event("agent", event.type, event.text, event.data);
      // A warning (codex's unknown model metadata) is no account of the work: it must not become the summary.
      if (event.text !== undefined && event.type !== "warning") run.tail.push(event.text);
    }
    const retry = facts.events.find((event) => event.type === "api-retry");
    if (retry !== undefined || facts.events.length > 0) this.#apiRetry = retry?.text ?? null;
    // A line the preset read as saying nothing is no summary either; raw JSON in a report helps no one.
    if (facts.events.length === 0 && jsonObject(line) === null) run.tail.push(line);
    let changed = false;
    if (facts.sessionId !== undefined && facts.sessionId !== this.#sessionId) {
      this.#sessionId = facts.sessionId;
      changed = true;
    }
    if (facts.addTurns !== undefined && facts.addTurns > 0) {
      run.turns += facts.addTurns;
      changed = true;
    }
    let share = this.#ledger.share(facts, facts.sessionId ?? this.#sessionId ?? run.key);
    const price = this.#deps.launch.tokenPrice ?? null;
    if (share === null && facts.addTokens !== undefined && price !== null) {
      // The agent states tokens, no cost: priced as coordinator.prices says, and marked as an estimate wherever it is shown.
      share = tokenCost(facts.addTokens, price);
      run.costEstimated = true;
      this.#costEstimated = true;
    }
    if (share !== null) {
      run.costUsd = addCost(run.costUsd, share);
      changed = true;
    }
    run.finalText.take(facts);
    run.usageLimit = nextUsageLimit(run.usageLimit, facts);
    if (facts.turnEnded === true && run.agent.stdinOpen && this.#deps.preset.keepsSession) {
      this.#setState("idle");
      void this.#refreshHead();
      this.#pump();
    } else if (changed) {
      this.#state.now();
    }
  }

  async #onExit(run: Run, exit: AgentExit): Promise<WorkerReport> {
    const { launch, outbox } = this.#deps;
    const endedAt = new Date();
    const blockedReason = this.#readBlocked();
    const oomAfter = oomKills(this.#deps.oomFiles);
    const oomKilled = run.oomBefore !== null && oomAfter !== null && oomAfter > run.oomBefore;
    const git = await gitFacts(launch.workdir, launch.baseSha ?? launch.base);
    const outcome = outcomeOf({ exit, stoppedByUs: run.stoppedByUs, blockedReason, oomKilled, countError: git.countError });
    const exitedText = `${outcome}${exit.code === null ? "" : ` (exit ${String(exit.code)})`}${exit.signal === null ? "" : ` (${exit.signal})`}`;
    const carried: Carried = {
      turns: (run.carried?.turns ?? 0) + run.turns,
      costUsd: addCost(run.carried?.costUsd ?? null, run.costUsd),
      costEstimated: (run.carried?.costEstimated ?? false) || run.costEstimated,
      startedAt: run.carried?.startedAt ?? run.startedAt,
    };
    // A run that ended on its own while a message waited: the message is its follow-up turn, reported with it. Also after
    // a failed or crashed turn: reported apart, the message's run would reach the coordinator as a second report, after
    // it ended the attempt (and maybe started the next). Not a stop (interrupt, restart), a usage limit (the account is
    // parked) or an agent that could not start: the message waits for the next run then.
    const endedOnItsOwn = outcome === "success" || ((outcome === "failure" || outcome === "crash" || outcome === "oom") && run.usageLimit === null && exit.spawnError === null);
    let ended = false;
    if (endedOnItsOwn && this.#stopping === null && (run.inFlight.length > 0 || this.#queue.length > 0)) {
      this.#event("supervisor", "exited", exitedText, { code: exit.code, signal: exit.signal, spawnError: exit.spawnError });
      this.#endRun(run, exit, git.headSha);
      const next = this.#startFollowUp(carried);
      if (next !== null) {
        this.#event("supervisor", "report-deferred", "a message waited: it runs as the follow-up turn, whose report covers this run too");
        return next.done;
      }
      ended = true;
    }
    const agentSummary = run.finalText.text ?? (exit.spawnError !== null ? `the agent could not start: ${exit.spawnError}` : run.tail.text());
    const fullSummary = git.countError === null ? agentSummary : `cspace could not count the commits on the branch: ${git.countError}

${agentSummary}`;
    // Bounded: the report must fit a c.sock line (COORDINATOR_MAX_LINE_BYTES), or the coordinator would refuse it every time.
    const summary = cutTo(fullSummary, MAX_REPORT_SUMMARY_CHARS);
    const report: WorkerReport = {
      id: reportId(launch.instance, endedAt, randomBytes(3).toString("hex")),
      instance: launch.instance,
      outcome,
      exitCode: exit.code,
      signal: exit.signal,
      branch: git.branch ?? launch.branch,
      base: launch.base,
      headSha: git.headSha,
      commitsAhead: git.commitsAhead ?? 0,
      summary,
      blockedReason,
      // This run's own share: the coordinator adds up the reports of an issue's attempts, so a report
      // that repeated what earlier runs of this supervisor spent would be counted again (status has the totals).
      turns: carried.turns,
      costUsd: carried.costUsd,
      sessionId: this.#sessionId,
      startedAt: carried.startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      // Only a run that failed was stopped by the limit; one that went on and ended well was not.
      ...(outcome === "failure" && run.usageLimit !== null ? { usageLimit: run.usageLimit } : {}),
      ...(this.#restarting && outcome === "interrupted" ? { restarted: true } : {}),
      ...(carried.costEstimated ? { costEstimated: true as const } : {}),
    };
    if (!ended) this.#event("supervisor", "exited", exitedText, { code: exit.code, signal: exit.signal, spawnError: exit.spawnError });
    try {
      outbox.write(report);
      this.#event("supervisor", "report-written", report.id, { outcome });
    } catch (error) {
      // Still sent below: a report that cannot be kept is better delivered once than not at all.
      this.#deps.log(`cannot write report ${report.id} to the outbox: ${messageOf(error)}`);
    }
    if (!ended) this.#endRun(run, exit, git.headSha);
    void outbox.nudge();
    this.#pump();
    return report;
  }

  /** What every run's end does, reported now or with its follow-up. */
  #endRun(run: Run, exit: AgentExit, headSha: string | null): void {
    this.#clearBlocked();
    if (run.inFlight.length > 0) {
      // Written to the agent but never answered: delivered again, first, to the next run.
      this.#queue.unshift(...run.inFlight);
      this.#event("supervisor", "requeued", `${String(run.inFlight.length)} message(s) the agent did not answer before it exited`);
    }
    this.#priorTurns += run.turns;
    this.#priorCost = addCost(this.#priorCost, run.costUsd);
    this.#exitCode = exit.code;
    this.#signal = exit.signal;
    this.#headSha = headSha;
    this.#run = null;
    this.#setState("exited");
  }

  async #refreshHead(): Promise<void> {
    const sha = await headSha(this.#deps.launch.workdir);
    if (sha !== this.#headSha) {
      this.#headSha = sha;
      this.#state.now();
    }
  }

  #readBlocked(): string | null {
    try {
      const value = JSON.parse(readFileSync(this.#deps.blockedFile, "utf8")) as { reason?: unknown };
      return typeof value.reason === "string" && value.reason.trim() !== "" ? cutTo(value.reason, MAX_REPORT_SUMMARY_CHARS / 4) : "blocked (no reason given)";
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      return "blocked (blocked.json could not be read)";
    }
  }

  #clearBlocked(): void {
    try {
      unlinkSync(this.#deps.blockedFile);
    } catch {
      // Not there: nothing declared.
    }
  }

  #setState(state: AgentState): void {
    if (state === this.#agentState) return;
    this.#agentState = state;
    this.#state.now();
  }

  #event(source: WorkerEvent["source"], type: string, text?: string, data?: unknown): void {
    this.#lastActivity = new Date();
    const event: WorkerEvent = { ts: this.#lastActivity.toISOString(), source, type, ...(text === undefined ? {} : { text }), ...(data === undefined ? {} : { data }) };
    try {
      this.#deps.events.append(event);
    } catch (error) {
      this.#deps.log(`cannot write events.ndjson: ${messageOf(error)}`);
    }
    this.#state.soon();
  }

  #stateFile(): StateFile {
    return { ...this.status(), agent: this.#run?.agent.identity ?? null };
  }
}
