// Where a landing run's time goes (issue 14, "a train, not a queue"): the
// coordinate service's progress (each action as it starts, each event as it
// is recorded) stamped in wall time, and read back as the figures that say
// why a side's makespan is what it is: how long the run goes on after the
// last agent pushed, how many landing verifies ran at once, and how long each
// merge took once nothing was ahead of it.
import type { CoordinatorProgress } from "../../src/core/coordinator-runtime/progress.ts";
import { median } from "../support/processes.ts";

interface Stamp {
  readonly at: number;
  readonly issue: number;
  readonly what: string;
}

const VERIFY_ENDS = new Set(["LandingVerified", "LandingFailed", "LandingConflicted"]);

export interface LandingTimes {
  /** The last agent's push → the last merge: the end of the run that only landing and merging fill. */
  readonly tail: number;
  /** The most landing verifies under way at once. */
  readonly peakVerifying: number;
  /** Cars ahead of a landing verify, on average (0: verified on the tip alone). */
  readonly meanAhead: number;
  /** Per merge, its verification passed or the merge before it (whichever came later) → its Merged: the merge's own cost, median. */
  readonly mergeGap: number;
  /** The same, summed over the run's merges: how long merging itself held the feature branch. */
  readonly mergeGapTotal: number;
  /** Per merge, its last push → its first landing verify after it: waiting for a place in the queue or train (and its pull request), median. */
  readonly queued: number;
  /** Per merge, its last push → its Merged, median. */
  readonly pushToMerged: number;
  /** Per merge, its verification passed → the merge before it: waiting for the cars ahead, median. */
  readonly waitAhead: number;
  /** The actions an issue took between its verification (or the merge before it) and its merge, most often (e.g. "CheckPullRequest Merge"). */
  readonly gapActions: string;
  readonly staleLandings: number;
  readonly mismatchedLandings: number;
}

/** Collects the stamps of one run: pass `observe` as (part of) coordinate()'s onProgress. */
export class LandingTimeline {
  readonly #stamps: Stamp[] = [];
  readonly #aheads: number[] = [];

  observe(progress: CoordinatorProgress): void {
    const at = performance.now();
    if (progress.kind === "action") {
      const action = progress.action;
      if (!("issue" in action) || typeof action.issue !== "number") return;
      this.#stamps.push({ at, issue: action.issue, what: `action:${action.type}` });
      if (action.type === "VerifyLanding") this.#aheads.push(action.ahead.length);
    } else if (progress.kind === "event") {
      const event = progress.event;
      if (!("issue" in event) || typeof event.issue !== "number") return;
      this.#stamps.push({ at, issue: event.issue, what: event.type });
    }
  }

  times(): LandingTimes {
    const events = (type: string): Stamp[] => this.#stamps.filter((s) => s.what === type);
    const merges = events("Merged");
    const lastMerge = Math.max(...merges.map((m) => m.at));
    const lastPush = Math.max(...events("Pushed").map((p) => p.at));
    const gaps: number[] = [];
    const queued: number[] = [];
    const pushToMerged: number[] = [];
    const waits: number[] = [];
    const sequences = new Map<string, number>();
    merges.forEach((merge, index) => {
      const previous = index === 0 ? Number.NEGATIVE_INFINITY : (merges[index - 1]?.at ?? Number.NEGATIVE_INFINITY);
      const verified = this.#stamps.filter((s) => s.issue === merge.issue && s.what === "LandingVerified" && s.at <= merge.at).at(-1)?.at;
      const pushed = this.#stamps.filter((s) => s.issue === merge.issue && s.what === "Pushed" && s.at <= merge.at).at(-1)?.at;
      if (pushed !== undefined) {
        pushToMerged.push(merge.at - pushed);
        const verifying = this.#stamps.find((s) => s.issue === merge.issue && s.what === "action:VerifyLanding" && s.at >= pushed && s.at <= merge.at);
        if (verifying !== undefined) queued.push(verifying.at - pushed);
      }
      const from = Math.max(verified ?? previous, previous);
      if (Number.isFinite(from)) gaps.push(merge.at - from);
      if (verified !== undefined) waits.push(Math.max(0, previous - verified));
      const actions = this.#stamps.filter((s) => s.issue === merge.issue && s.at >= from && s.at <= merge.at && s.what.startsWith("action:")).map((s) => s.what.slice(7));
      const key = actions.join(" ");
      sequences.set(key, (sequences.get(key) ?? 0) + 1);
    });
    const gapActions = [...sequences].sort((x, y) => y[1] - x[1])[0]?.[0] ?? "";
    return {
      tail: lastMerge - lastPush,
      peakVerifying: this.#peakVerifying(),
      meanAhead: this.#aheads.length === 0 ? 0 : this.#aheads.reduce((sum, n) => sum + n, 0) / this.#aheads.length,
      mergeGap: gaps.length === 0 ? 0 : median(gaps),
      mergeGapTotal: gaps.reduce((sum, gap) => sum + gap, 0),
      queued: queued.length === 0 ? 0 : median(queued),
      pushToMerged: pushToMerged.length === 0 ? 0 : median(pushToMerged),
      waitAhead: waits.length === 0 ? 0 : median(waits),
      gapActions,
      staleLandings: events("LandingStale").length,
      mismatchedLandings: events("LandingMismatched").length,
    };
  }

  /** Landing verifies under way at once: from the action's start to the event that ends it, per issue. */
  #peakVerifying(): number {
    const open = new Set<number>();
    let peak = 0;
    for (const stamp of this.#stamps) {
      if (stamp.what === "action:VerifyLanding") open.add(stamp.issue);
      else if (VERIFY_ENDS.has(stamp.what)) open.delete(stamp.issue);
      peak = Math.max(peak, open.size);
    }
    return peak;
  }
}
