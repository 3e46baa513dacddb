import type { CoordinatorEvent } from "../../src/core/coordinator/events.ts";
import { initialState } from "../../src/core/coordinator/initial-state.ts";
import type { BranchMover } from "../../src/core/branches/port.ts";
import type { WorkerPool } from "../../src/core/coordinator-runtime/ports.ts";
import type { Forge } from "../../src/core/forge/port.ts";
import type { ExecutionContext } from "../../src/services/coordinate/execute.ts";

/** An execution context for one world action (services/coordinate/execute.ts) whose events land in `recorded`; no forge. */
export function recordingContext(branches: BranchMover, workers: WorkerPool, at: string): ExecutionContext & { readonly recorded: CoordinatorEvent[] } {
  const recorded: CoordinatorEvent[] = [];
  return {
    recorded,
    forge: {} as Forge,
    branches,
    workers,
    state: () => initialState(),
    record: (events) => {
      recorded.push(...events);
      return Promise.resolve();
    },
    renderPrompt: () => Promise.resolve(""),
    now: () => at,
    notice: () => undefined,
  };
}
