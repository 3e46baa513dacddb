import type { AgentProcess } from "./agent-process.ts";

/** Resolves true when `exited` settles within `ms`, false otherwise; the timer never outlives the wait. */
function within(exited: Promise<unknown>, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => { resolve(false); }, ms);
    void exited.then(() => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * SIGINT first (agents treat it as "stop this turn" and exit cleanly), then
 * SIGTERM after `graceMs`, then SIGKILL after as long again, to the agent's
 * whole process group. Resolves once the agent has exited.
 */
export async function stopProcess(agent: AgentProcess, graceMs: number, onSignal: (signal: NodeJS.Signals) => void): Promise<void> {
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    onSignal(signal);
    agent.signal(signal);
    if (await within(agent.exited, graceMs)) return;
  }
  onSignal("SIGKILL");
  agent.signal("SIGKILL");
  await agent.exited;
}
