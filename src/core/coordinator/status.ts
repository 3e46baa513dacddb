import { runOverBudget } from "./budget.ts";
import { basePlanWords } from "./base-plan-words.ts";
import {
  awaitsVerify,
  basePlan,
  failureCount,
  hasPushedWork,
  hasUnpushedWork,
  currentLanding,
  internalGateHolding,
  isMerging,
  mergeGateHolding,
  openAttempt,
  resetPending,
  restackTarget,
  unmergedDependencies,
  unresolvedFailure,
  type MergeGate,
} from "./queries.ts";
import { fullHost } from "./host-slots.ts";
import { predictionHold } from "./predictions.ts";
import type { CoordinatorState, IssueRecord, IssueStatus, IssueStatusKind } from "./state.ts";

/** Every issue's status, derived again from its facts (called by `apply` after each event). */
export function withStatuses(state: CoordinatorState): CoordinatorState {
  const issues: Record<number, IssueRecord> = {};
  for (const record of Object.values(state.issues)) issues[record.number] = { ...record, status: statusOf(state, record) };
  return { ...state, issues };
}

/**
 * What an issue is doing or waiting for, with a reason and the evidence.
 * Checked top to bottom: the first line that holds is the status. Silence is
 * expected in every state but `working`, `reviewing` and `rebasing` with an
 * agent running, so a stall watchdog looks only at those.
 */
export function statusOf(state: CoordinatorState, record: IssueRecord): IssueStatus {
  const status = (kind: IssueStatusKind, reason: string, waitingOn: readonly (number | string)[] = [], until: string | null = null): IssueStatus => ({
    kind,
    reason,
    waitingOn,
    until,
  });
  const maxAttempts = state.run?.settings.maxAttempts ?? 1;
  if (record.mergedBeforeRun) return status("merged", "closed before the run");
  if (record.merge?.squashSha != null) return status("merged", `squash-merged as ${short(record.merge.squashSha)} (pull request #${record.merge.pr})`);
  if (record.outcome?.kind === "failed") return status("failed", record.outcome.reason);
  if (record.outcome?.kind === "blocked") {
    const by = record.outcome.by;
    const on = by.kind === "dependency" ? [by.issue] : by.kind === "outside" ? [by.ref] : [];
    return status("blocked", record.outcome.reason, on);
  }
  if (isMerging(record)) return status("merging", `merging pull request #${record.merge?.pr ?? 0} at ${short(record.merge?.headSha ?? "")}`);

  const open = openAttempt(record);
  if (open !== null) {
    // Words, not the attempt's kind as the code names it ("attempt 1 (initial) running").
    if (resetPending(record)) return status("working", `attempt ${open.number} being stopped: reset by the operator, it starts again from its base`);
    const what = `attempt ${open.number} running${open.why === "initial" ? "" : ` (a ${open.why})`}`;
    if (open.why === "rebase") return status("rebasing", what);
    if (open.why === "review") return status("reviewing", what);
    return status("working", what);
  }
  if (record.warm === "failed") return status("warming", `instance could not be made: ${record.warmError ?? "unknown error"}`);
  const failed = unresolvedFailure(record);
  if (failed?.failure != null) {
    return status("ready", `attempt ${failed.number} failed (${failed.failure.summary}); ${failureCount(record)} of ${maxAttempts} attempts failed`);
  }
  if (record.rateLimitedUntil !== null && record.pending !== null) {
    const until = state.parked?.until ?? record.rateLimitedUntil;
    const who = state.parked === null ? "usage limit" : `${state.parked.account}'s usage limit`;
    const probing = state.parked?.probe != null ? `; #${String(state.parked.probe.issue)} is probing the account` : "";
    return status("rate-limited", `${who}: attempt ${record.attempts.length + 1} starts after ${until}${probing}`, [], until);
  }
  const hold = predictionHold(state, record);
  if (hold !== null && (record.attempts.length > 0 ? record.pending !== null : record.warm === "ready" && basePlan(state, record).action === "launch")) return status("waiting", hold.reason, [hold.on]);
  if (record.attempts.length === 0) return notStarted(state, record, status);
  if (resetPending(record) && record.warm === "ready") return notStarted(state, record, status, "reset by the operator: ");
  if (record.warm !== "ready") return status("warming", "instance being made again after it was lost");

  const restack = restackTarget(state, record);
  if (record.restackConflict !== null && record.pending?.kind !== "rebase") {
    return status("rebasing", `restack conflicted in ${record.restackConflict.paths.join(", ") || "unknown paths"}: a rebase is being asked for`);
  }
  const slot = aSlot(state, record);
  switch (record.pending?.kind) {
    case "rebase":
      return status("rebasing", `rebase onto ${record.pending.onto} waits for ${slot}`, ["slot"]);
    case "review":
      return status("reviewing", `review of ${short(record.pending.headSha)} waits for ${slot}`, ["slot"]);
    case "retry":
      return status("ready", `retry (try ${record.pending.attempt} of ${record.pending.maxAttempts}) waits for ${slot}`, ["slot"]);
    case "implementer":
      return status("ready", `waits for ${slot}`, ["slot"]);
    case undefined:
      break;
  }
  if (restack !== null) return status("rebasing", `to be restacked onto ${restack.onto} at ${short(restack.ontoSha)} (#${restack.parent} ${restack.onto === `issue-${restack.parent}` ? "was rewritten" : "merged"})`);
  if (hasUnpushedWork(record)) return status("verifying", `pushing ${short(record.headSha ?? "")}`);
  if (awaitsVerify(state, record)) return status("verifying", `verifying ${short(record.pushedSha ?? "")}`);
  if (!hasPushedWork(record)) return status("working", "no work pushed yet");
  if (record.pullRequest === null) return status("pr-open", "opening the pull request");
  const gate = mergeGateHolding(state, record);
  if (gate === "review") return status("reviewing", "review to be asked for");
  if (gate === "landing") return status("verifying", landingText(state, record), ["landing"]);
  if (gate === null) return status("pr-open", `pull request #${record.pullRequest.number} may merge${record.paused || state.paused ? " (paused)" : ""}`);
  const waiting = gate === "dependencies" ? unmergedDependencies(state, record) : [gate];
  return status("pr-open", `pull request #${record.pullRequest.number} waits: ${gateText(gate, record, state)}`, waiting);
}

function notStarted(
  state: CoordinatorState,
  record: IssueRecord,
  status: (kind: IssueStatusKind, reason: string, waitingOn?: readonly (number | string)[]) => IssueStatus,
  why = "",
): IssueStatus {
  if (record.warm !== "ready") return status("warming", "instance being made");
  const plan = basePlan(state, record);
  if (plan.action === "wait") return status("waiting", `${why}waiting on ${plan.waitingOn.map(refText).join(", ")}: ${basePlanWords(plan)}`, plan.waitingOn);
  const held = record.paused || state.paused ? "paused" : (runOverBudget(state) ?? (state.parked === null ? `waits for ${aSlot(state, record)}` : `${state.parked.account} is parked by its usage limit until ${state.parked.until}`));
  return status("ready", `${why}starts on ${plan.base} (${basePlanWords(plan)}); ${held}`, ["slot"]);
}

function gateText(gate: MergeGate, record: IssueRecord, state: CoordinatorState): string {
  switch (gate) {
    case "pull-request":
      return "no pull request";
    case "dependencies":
      return `dependencies ${unmergedDependencies(state, record).map(refText).join(", ")} not merged`;
    case "settled-work":
      return "work in progress";
    case "base":
      return `its base ${record.pullRequest?.base ?? "?"} is not the feature branch yet`;
    case "verify":
      return "verify has not passed";
    case "review":
      return "review has not passed";
    case "checks":
      return internalGateHolding(state, record) === null && record.check?.checks === "pending" ? "checks pending" : "checks not green yet";
    case "mergeable":
      return `the forge says ${record.check?.mergeability ?? "unknown"}`;
    case "landing":
      return landingText(state, record);
  }
}

/** "verifying on feature/login + #11": the tree that would land, as `cspace status` shows it. */
function landingText(state: CoordinatorState, record: IssueRecord): string {
  const feature = state.run?.settings.featureBranch ?? "the feature branch";
  const on = `${feature} + #${String(record.number)}`;
  const landing = currentLanding(state, record);
  if (landing?.result === "failed" && !landing.blamed) return `failed on ${on} at ${short(landing.baseSha)}; verifying ${feature} alone before judging it`;
  if (landing?.result === "conflicted") return `conflicts with ${feature} at ${short(landing.baseSha)}`;
  return `verifying on ${on} (merge candidates are verified one at a time, in merge order)`;
}

function refText(ref: number | string): string {
  return typeof ref === "number" ? `#${ref}` : ref;
}

function short(sha: string): string {
  return sha.slice(0, 7);
}

/** What a ready launch waits for: a slot of the run, or of its host when that host's slots are all taken. */
function aSlot(state: CoordinatorState, record: IssueRecord): string {
  const full = fullHost(state, record);
  return full === null ? "a slot" : `a slot on ${full.host} (its ${String(full.slots)} taken)`;
}
