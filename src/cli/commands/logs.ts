import type { Command } from "commander";
import { action, examples } from "./action.ts";

interface LogsFlags {
  readonly follow?: boolean;
  readonly since?: string;
}

export function registerLogs(program: Command): void {
  program
    .command("logs")
    .summary("an instance's agent events (events.ndjson), human-readable; -f follows")
    .description(
      "Print the instance's events, oldest first (the rotated events.1.ndjson, then events.ndjson): time, source (agent, " +
        "supervisor, message), type and text. --json prints the raw lines (one JSON object each) instead.\n\n" +
        "With -f new events are printed as they are written, across rotations, until Ctrl-C — or until the supervisor is " +
        "gone (it no longer answers on its socket), since then nothing more can come. The agent exiting does not end it: " +
        "a message can start the agent again while its supervisor lives.",
    )
    .argument("<instance>", "instance name, like issue-12")
    .option("-f, --follow", "keep printing new events as they come")
    .option("--since <when>", "only events since then: a duration back (30s, 10m, 2h, 1d; a bare number is seconds) or a time (2026-05-01T10:00:00Z)")
    .addHelpText("after", examples("cspace logs issue-12", "cspace logs issue-12 -f", "cspace logs issue-12 --since 10m", "cspace logs issue-12 --json | jq -c 'select(.source == \"message\")'"))
    .action(
      action(async (ctx, instance: string, flags: LogsFlags) => {
        const [{ showLogs, parseSince }, { formatEvent, formatRawLine }] = await Promise.all([import("../../services/workers/logs.ts"), import("../../ui/worker-events.ts")]);
        const since = flags.since === undefined ? undefined : parseSince(flags.since);
        const controller = new AbortController();
        const stop = (): void => { controller.abort(); };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
        try {
          await showLogs({
            cwd: ctx.globals.cwd,
            env: ctx.env,
            instance,
            since,
            follow: flags.follow === true,
            signal: controller.signal,
            onLine: (line) => {
              if (ctx.globals.json) ctx.out.line(line.raw);
              else ctx.out.line(line.event === null ? formatRawLine(line.raw, ctx.out.tone) : formatEvent(line.event, ctx.out.tone));
            },
          });
        } finally {
          process.removeListener("SIGINT", stop);
          process.removeListener("SIGTERM", stop);
        }
        return 0;
      }),
    );
}
