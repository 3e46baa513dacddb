import type { Command } from "commander";
import type { WarmEvent } from "../../core/instances/warm-events.ts";
import type { UpResult } from "../../services/workers/up.ts";
import type { CommandContext } from "../context.ts";
import { action, examples } from "./action.ts";

interface UpFlags {
  readonly base?: string;
  readonly prompt?: string;
  readonly promptFile?: string;
  readonly agent?: string;
  readonly follow?: boolean;
}

export function registerUp(program: Command): void {
  program
    .command("up")
    .summary("start an agent in an instance (warming it first if needed), detached; --follow streams it")
    .description(
      "Warm the instance if needed (image, workspace on branch <instance> from --base, container), then start its supervisor " +
        "detached inside the container: it runs the agent with the prompt, records its events, queues messages from " +
        "`cspace send` and reports when the agent exits. Returns once the supervisor answers, printing its status; the agent " +
        "goes on after cspace exits. A second `up` of an instance whose supervisor runs is refused (use send or restart).\n\n" +
        "With --follow the agent's events are streamed until it exits, and cspace exits 0 when it succeeded, 1 otherwise. " +
        "Ctrl-C while following stops following only (exit 130); the agent goes on.",
    )
    .argument("<instance>", 'instance name, like issue-12 (also the branch the agent commits to)')
    .option("--base <branch>", "the branch a new instance starts from (default: coordinator.featureBranch, else the default branch)")
    .option("--prompt <text>", "what the agent should do")
    .option("--prompt-file <file>", "read what the agent should do from a file")
    .option("--agent <preset>", "the agent preset: claude, codex, gemini, aider, opencode, command or scripted (default: agent.preset)")
    .option("--follow", "stream the agent's events until it exits; exit with its status (0 succeeded, 1 otherwise)")
    .addHelpText(
      "after",
      examples(
        "cspace up issue-12 --base issue-10 --prompt-file task.md",
        'cspace up issue-12 --prompt "fix the flaky test" --follow',
        'cspace up demo --agent scripted --prompt "cspace-script: commit notes.txt hello"',
        "cspace up issue-12 --prompt-file task.md --json",
      ) + "\nExit codes: 0 started (with --follow: the agent succeeded), 1 (--follow) the agent failed, crashed, was blocked or lost, 2 bad flags or prompt, or the instance already runs an agent, 3 Docker or the supervisor unavailable.\n",
    )
    .action(
      action(async (ctx, instance: string, flags: UpFlags) => {
        const { up } = await import("../../services/workers/up.ts");
        return startAndReport(ctx, instance, flags.follow === true, (signal, onWarmEvent) =>
          up({ cwd: ctx.globals.cwd, env: ctx.env, instance, base: flags.base, prompt: flags.prompt, promptFile: flags.promptFile, agent: flags.agent, signal, onWarmEvent, onNotice: (text) => { ctx.out.info(`${instance}: ${text}`); } }),
        );
      }),
    );
}

/** What `up` and `issue` print and follow. */
type Started = Pick<UpResult, "instance" | "preset" | "branch" | "base" | "host" | "remote" | "instanceDir" | "eventsFrom" | "status">;

/**
 * Shared by `up` and `issue`: warm's progress on stderr, Ctrl-C/SIGTERM/SIGHUP
 * abort the start (what was being made is removed, as for warm), then the
 * result, then with `follow` the event stream and the agent's exit status.
 */
export async function startAndReport<T extends Started>(
  ctx: CommandContext,
  instance: string,
  follow: boolean,
  start: (signal: AbortSignal, onWarmEvent: (event: WarmEvent) => void) => Promise<T>,
): Promise<number> {
  const [{ WarmProgress }, { followStarted, followExitCode }, { formatEvent, formatRawLine }] = await Promise.all([
    import("../../ui/warm-progress.ts"),
    import("../../services/workers/follow.ts"),
    import("../../ui/worker-events.ts"),
  ]);
  const controller = new AbortController();
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  let received: (typeof signals)[number] | undefined;
  let following = false;
  const interrupt = (signal: (typeof signals)[number]): void => {
    if (received !== undefined) return;
    received = signal;
    ctx.out.info(following ? `stopped following ${instance}; its agent goes on (cspace logs ${instance} -f follows it again)` : `${signal === "SIGINT" ? "interrupted" : `received ${signal}`}: removing what was being made…`);
    controller.abort(new Error("interrupted"));
  };
  const exitCode = (): number => 128 + (received === "SIGTERM" ? 15 : received === "SIGHUP" ? 1 : 2);
  for (const signal of signals) process.on(signal, interrupt);
  const progress = new WarmProgress(process.stderr, [instance]);
  try {
    let started: T;
    try {
      started = await start(controller.signal, progress.onEvent);
    } catch (error) {
      if (controller.signal.aborted) return exitCode();
      throw error;
    } finally {
      progress.stop();
    }
    if (!follow) {
      if (ctx.globals.json) ctx.out.data(started);
      else printStarted(ctx, started);
      return controller.signal.aborted ? exitCode() : 0;
    }
    if (!ctx.globals.json) printStarted(ctx, started);
    following = true;
    // With --json, stdout carries one document at the end; the stream goes to stderr for people.
    const show = (text: string): void => { if (ctx.globals.json) ctx.out.info(text); else ctx.out.line(text); };
    const end = await followStarted(started, {
      cwd: ctx.globals.cwd,
      env: ctx.env,
      signal: controller.signal,
      onLine: (line) => { show(line.event === null ? formatRawLine(line.raw, ctx.out.tone) : formatEvent(line.event, ctx.out.tone)); },
    });
    if (ctx.globals.json) ctx.out.data({ ...started, followed: end });
    else if (end.kind === "exited") ctx.out.info(`${instance}: the agent exited (${end.outcome ?? "unknown outcome"}${end.exitCode === null ? "" : `, exit ${String(end.exitCode)}`}${end.signal === null ? "" : `, ${end.signal}`})`);
    else if (end.kind === "lost") ctx.out.info(`${instance}: the supervisor stopped answering before the agent's exit was recorded (lost); cspace list shows it`);
    return end.kind === "stopped" ? exitCode() : followExitCode(end);
  } finally {
    for (const signal of signals) process.removeListener(signal, interrupt);
  }
}

function printStarted(ctx: CommandContext, started: Started): void {
  const head = started.status.headSha === null ? "" : ` at ${started.status.headSha.slice(0, 12)}`;
  const where = started.remote ? ` on host ${started.host}` : "";
  ctx.out.line(`${started.instance}: ${started.preset} agent ${started.status.state} on branch ${started.branch}${head} (from ${started.base}); supervisor pid ${String(started.status.pid)} in the container${where}`);
  ctx.out.info(`  cspace logs ${started.instance} -f      follow its events`);
  ctx.out.info(`  cspace send ${started.instance} "…"     send it a message`);
  ctx.out.info(`  cspace status ${started.instance}       its state, turns and cost`);
}
