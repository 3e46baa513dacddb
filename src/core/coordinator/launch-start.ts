import { z } from "zod";
import { count } from "./vocabulary-schemas.ts";

/**
 * Where a first launch really started `issue-N`, for the progress line: a
 * branch it made at its base (`new`), or one an earlier run left, which it
 * moved back to the base (`fresh`: `--fresh`/`reset`, or nothing of its own
 * on it), replayed onto the base (`restacked`), or left where it was because
 * the replay conflicted (`kept`). `commits`: the earlier run's commits on it.
 * The launch after the operator's `reset N` of an issue that started in this
 * run records one too (`fresh`, or `new` when nothing of its own was on it).
 */
export const launchStartSchema = z.object({
  kind: z.enum(["new", "fresh", "restacked", "kept"]),
  commits: count,
});

export type LaunchStart = z.output<typeof launchStartSchema>;

const SHORT = 7;
const short = (sha: string | null): string => (sha === null ? "?" : sha.slice(0, SHORT));
const plural = (n: number): string => `${String(n)} commit${n === 1 ? "" : "s"}`;

/** "on main at 3f2a1c0", and for a branch an earlier run left, what became of its work. */
export function startedWhere(event: {
  readonly issue: number;
  readonly attempt?: number;
  readonly base: string;
  readonly baseSha: string | null;
  readonly headSha: string | null;
  readonly start?: LaunchStart | undefined;
}): string {
  const { start } = event;
  const branch = `issue-${String(event.issue)}`;
  const at = event.headSha === null ? "" : ` at ${short(event.headSha)}`;
  // A later attempt with a start is the launch after the operator's reset: this run's own work on the branch was discarded.
  if ((event.attempt ?? 1) > 1 && start !== undefined) {
    return `on ${event.base}${at}, reset: ${start.commits === 0 ? `${branch} starts at its base` : `${branch}'s ${plural(start.commits)} discarded`}`;
  }
  if (start === undefined || start.kind === "new") return `on ${event.base}${at}`;
  switch (start.kind) {
    case "fresh":
      return `on ${event.base}${at}, fresh: the earlier run's ${branch}${start.commits === 0 ? "" : ` and its ${plural(start.commits)}`} discarded`;
    case "restacked":
      return `on ${branch}${at}: the earlier run's ${plural(start.commits)}, replayed onto ${event.base} at ${short(event.baseSha)}`;
    case "kept":
      return `on ${branch}${at}: the earlier run's ${plural(start.commits)}, left on an older base (replaying them onto ${event.base} at ${short(event.baseSha)} conflicted; cspace coordinate --fresh ${String(event.issue)} starts over)`;
  }
}
