import type { NudgeStalled, RestartStalled } from "../../core/coordinator/actions.ts";
import { outcomeEvents } from "../../core/coordinator/outcomes.ts";
import { openAttempt } from "../../core/coordinator/queries.ts";
import type { ExecutionContext } from "./execute.ts";
import type { StallLook } from "./stall-watch.ts";

/** What executing a stall step needs beyond the ports: a look at the agent first, and the nudge's text. */
export interface StallStepTools {
  look(issue: number, attempt: number, instance: string): Promise<StallLook>;
  /** The `nudge` template rendered for the issue (services/coordinate/prompts.ts). */
  nudgeText(issue: number, instance: string, minutesSilent: number, lastEvent: string | null): string;
}

/**
 * A stall's first step (core/coordinator/stalls.ts): unless the agent turned
 * out to be active (then `AgentActive`, no step), send it the nudge through
 * its supervisor. A supervisor that does not take it is recorded as such and
 * still counts as the step: the restart that follows deals with it.
 */
export async function nudgeStalled(context: ExecutionContext, action: NudgeStalled): Promise<void> {
  const tools = context.stalls;
  const look = (await tools?.look(action.issue, action.attempt, action.instance)) ?? { active: false, lastEvent: null };
  if (look.active) {
    await context.record(outcomeEvents(action, { active: true }, context.now()));
    return;
  }
  const text = tools?.nudgeText(action.issue, action.instance, action.silentMinutes, look.lastEvent) ?? `Nothing has come from you for ${String(action.silentMinutes)} minutes: go on with the issue, or run cspace blocked "<why>".`;
  let error: string | null = null;
  try {
    await context.workers.tell(action.instance, text);
  } catch (failure) {
    context.signal?.throwIfAborted();
    error = failure instanceof Error ? failure.message : String(failure);
  }
  await context.record(outcomeEvents(action, { active: false, lastEvent: look.lastEvent, error }, context.now()));
}

/**
 * The second step: the same attempt restarted with the reason (`WorkerPool.restart`, as `cspace restart`), its
 * session resumed where the preset can. A restart that fails is recorded with why; the next step still follows.
 */
export async function restartStalled(context: ExecutionContext, action: RestartStalled): Promise<void> {
  // Its report came meanwhile: the attempt is over, and a restart would start an agent outside any attempt.
  if (!stillOpen(context, action)) return;
  const look = (await context.stalls?.look(action.issue, action.attempt, action.instance)) ?? { active: false, lastEvent: null };
  if (look.active) {
    await context.record(outcomeEvents(action, { active: true }, context.now()));
    return;
  }
  if (!stillOpen(context, action)) return;
  let error: string | null = null;
  try {
    await context.workers.restart(action.instance, action.reason);
  } catch (failure) {
    context.signal?.throwIfAborted();
    error = failure instanceof Error ? failure.message : String(failure);
  }
  await context.record(outcomeEvents(action, { active: false, error }, context.now()));
}

function stillOpen(context: ExecutionContext, action: RestartStalled): boolean {
  const record = context.state().issues[action.issue];
  return record !== undefined && openAttempt(record)?.number === action.attempt;
}
