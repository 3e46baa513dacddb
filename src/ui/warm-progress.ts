import type { InstanceOutcome, WarmEvent, WarmStep } from "../core/instances/warm-events.ts";

/**
 * Warm's progress on stderr. In a terminal: one line per instance (step and
 * elapsed), redrawn in place. Otherwise: a plain line per change, for logs.
 */
export class WarmProgress {
  readonly #stream: NodeJS.WriteStream;
  readonly #live: boolean;
  readonly #rows = new Map<string, { step: WarmStep | "ready" | "failed" | "cancelled"; since: number; attempt: number }>();
  readonly #started = Date.now();
  #drawn = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(stream: NodeJS.WriteStream, instances: readonly string[]) {
    this.#stream = stream;
    this.#live = stream.isTTY;
    for (const name of instances) this.#rows.set(name, { step: "image", since: Date.now(), attempt: 1 });
    if (this.#live) {
      this.#timer = setInterval(() => {
        this.#draw();
      }, 250);
      this.#timer.unref();
    }
  }

  onEvent = (event: WarmEvent): void => {
    if (event.kind === "warning") {
      // Above the live lines, which are drawn again below it.
      this.#clear();
      this.#stream.write(`warning: ${event.message}\n`);
      this.#draw();
      return;
    }
    const instance = event.kind === "done" ? event.outcome.instance : event.instance;
    const row = this.#rows.get(instance) ?? { step: "image", since: Date.now(), attempt: 1 };
    switch (event.kind) {
      case "step":
        this.#rows.set(instance, { step: event.step, since: Date.now(), attempt: event.attempt });
        if (!this.#live) this.#stream.write(`${instance}: ${event.step}${event.attempt > 1 ? ` (attempt ${event.attempt})` : ""}\n`);
        break;
      case "retry":
        if (!this.#live) this.#stream.write(`${instance}: failed (${event.reason}); retrying from scratch\n`);
        break;
      case "done":
        this.#rows.set(instance, { ...row, step: event.outcome.status, since: this.#started + event.outcome.elapsedMs });
        if (!this.#live) this.#stream.write(`${instance}: ${event.outcome.status} in ${seconds(event.outcome.elapsedMs)}\n`);
        break;
    }
    this.#draw();
  };

  stop(): void {
    clearInterval(this.#timer);
    this.#draw();
  }

  #clear(): void {
    if (!this.#live || this.#drawn === 0) return;
    this.#stream.write(`\u001b[${this.#drawn}A\r\u001b[0J`);
    this.#drawn = 0;
  }

  #draw(): void {
    if (!this.#live) return;
    const width = Math.max(...[...this.#rows.keys()].map((name) => name.length));
    const now = Date.now();
    const lines = [...this.#rows].map(([name, row]) => {
      const done = row.step === "ready" || row.step === "failed" || row.step === "cancelled";
      const elapsed = done ? row.since - this.#started : now - row.since;
      const attempt = row.attempt > 1 ? ` (attempt ${row.attempt})` : "";
      return `${done ? (row.step === "ready" ? "✓" : "✗") : "…"} ${name.padEnd(width)}  ${row.step}${attempt}  ${seconds(elapsed)}`;
    });
    // Move up over the previous drawing and rewrite it line by line.
    const up = this.#drawn > 0 ? `\u001b[${this.#drawn}A` : "";
    this.#stream.write(`${up}${lines.map((l) => `\r\u001b[2K${l}`).join("\n")}\n`);
    this.#drawn = lines.length;
  }
}

/** The summary table printed when warm finishes. */
export function warmSummary(outcomes: readonly InstanceOutcome[]): string[] {
  const rows = outcomes.map((o) => [o.instance, o.status, o.action ?? "-", o.base, o.commit?.slice(0, 12) ?? "-", seconds(o.elapsedMs), o.container]);
  const header = ["INSTANCE", "STATUS", "ACTION", "BASE", "COMMIT", "TIME", "CONTAINER"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const format = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  const lines = [format(header), ...rows.map(format)];
  for (const o of outcomes) {
    if (o.error === null) continue;
    lines.push("", `${o.instance}: ${o.error.message}`);
    if (o.error.output !== "") lines.push(...o.error.output.split("\n").map((l) => `  | ${l}`));
  }
  return lines;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
