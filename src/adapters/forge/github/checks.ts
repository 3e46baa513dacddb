import type { ChecksSummary } from "../../../core/forge/port.ts";
import { call, type GithubContext } from "./context.ts";

const failedConclusions = new Set(["failure", "timed_out", "cancelled", "action_required", "startup_failure", "stale"]);

/**
 * Commit statuses and check runs together. The combined status reads
 * "pending" also when there are no statuses at all, so the count decides:
 * nothing reported by either is "none".
 */
export async function checksFor(context: GithubContext, sha: string): Promise<ChecksSummary> {
  const params = { owner: context.owner, repo: context.repo, ref: sha, per_page: 100 };
  const [combined, runs] = await Promise.all([
    call(context, `read the statuses of ${sha}`, () => context.octokit.rest.repos.getCombinedStatusForRef(params)),
    call(context, `read the check runs of ${sha}`, () => context.octokit.rest.checks.listForRef(params)),
  ]);
  const failed: string[] = [];
  const pending: string[] = [];
  for (const status of combined.data.statuses) {
    if (status.state === "failure" || status.state === "error") failed.push(status.context);
    else if (status.state !== "success") pending.push(status.context);
  }
  for (const run of runs.data.check_runs) {
    if (run.status !== "completed") pending.push(run.name);
    else if (run.conclusion !== null && failedConclusions.has(run.conclusion)) failed.push(run.name);
  }
  if (combined.data.statuses.length === 0 && runs.data.check_runs.length === 0) return { state: "none", details: [] };
  if (failed.length > 0) return { state: "failure", details: failed };
  if (pending.length > 0) return { state: "pending", details: pending };
  return { state: "success", details: [] };
}
