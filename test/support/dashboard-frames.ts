import type { DashboardModel, DashboardRow, RowGroup } from "../../src/core/dashboard/model.ts";
import type { IssueStatusKind } from "../../src/core/coordinator/state.ts";
import type { NeedsYou } from "../../src/core/coordinator/needs-you.ts";
import type { WatchFrame } from "../../src/services/coordinate/watch-types.ts";

/**
 * Dashboard models and frames built by hand for the view's tests: the view
 * renders whatever the model says, so its tests do not need a run.
 */

const KIND_OF: Readonly<Record<RowGroup, IssueStatusKind>> = { merged: "merged", working: "working", waiting: "waiting", failed: "failed", blocked: "blocked" };

export function row(issue: number, group: RowGroup, more: Partial<DashboardRow> = {}): DashboardRow {
  return {
    issue,
    title: `Issue number ${String(issue)}`,
    depth: 0,
    kind: KIND_OF[group],
    group,
    state: group === "waiting" ? `waiting on #${String(Math.max(1, issue - 1))}` : group,
    attempt: group === "waiting" ? 0 : 1,
    turns: group === "waiting" ? 0 : 12,
    costUsd: group === "waiting" ? null : 0.42,
    elapsedMs: group === "waiting" ? null : 185_000,
    pullRequest: null,
    pullRequestUrl: null,
    needsYou: false,
    ...more,
  };
}

export function model(rows: readonly DashboardRow[], more: { needsYou?: readonly NeedsYou[]; paused?: boolean; held?: string | null; ended?: boolean; budgetUsd?: number | null; remainingMs?: number | null } = {}): DashboardModel {
  const count = (group: RowGroup): number => rows.filter((r) => r.group === group).length;
  return {
    runId: "20261206-2330-ab12",
    featureBranch: "feature/login",
    header: {
      counts: { merged: count("merged"), working: count("working"), waiting: count("waiting"), failed: count("failed"), blocked: count("blocked") },
      spentUsd: rows.reduce((sum, r) => sum + (r.costUsd ?? 0), 0),
      budgetUsd: more.budgetUsd === undefined ? 10 : more.budgetUsd,
      elapsedMs: 754_000,
      remainingMs: more.remainingMs === undefined ? 480_000 : more.remainingMs,
      estimate: "the longest chain of unmerged issues, each at the run's median time per issue",
      paused: more.paused ?? false,
      held: more.held ?? null,
    },
    needsYou: more.needsYou ?? [],
    rows,
    ended: more.ended ?? false,
  };
}

export function frame(m: DashboardModel, lastLines: Readonly<Record<number, string>> = {}, coordinatorAlive = true): WatchFrame {
  return { model: m, lastLines: new Map(Object.entries(lastLines).map(([issue, line]) => [Number(issue), line])), coordinatorAlive };
}

/** Frames pushed by the test, read by the view as its AsyncIterable; `end()` ends the run. */
export class FrameFeed implements AsyncIterable<WatchFrame> {
  readonly #queue: WatchFrame[] = [];
  #wake: (() => void) | null = null;
  #ended = false;

  push(next: WatchFrame): void {
    this.#queue.push(next);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<WatchFrame> {
    for (;;) {
      const next = this.#queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = null;
    }
  }
}
