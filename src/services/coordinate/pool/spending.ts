import type { UnreportedSpend } from "../../../core/agents/worker-status.ts";
import { askWorker } from "../../workers/supervisor-client.ts";
import { pathsOf, type PoolContext } from "./context.ts";

const STATUS_MS = 5_000;

/**
 * What the instance's running agent spent that no report holds yet, as its supervisor's `status` says; null when no
 * agent runs, or nobody (or a broken peer) answers: the next poll asks again, and the reports stay the account.
 */
export async function unreportedIn(context: PoolContext, instance: string): Promise<UnreportedSpend | null> {
  try {
    const answer = await askWorker(pathsOf(context, instance), "status", {}, STATUS_MS);
    return answer.ok ? (answer.status.unreported ?? null) : null;
  } catch {
    // Unreachable or broken: the lost-worker probe says so; a budget waits for a poll that is answered.
    return null;
  }
}
