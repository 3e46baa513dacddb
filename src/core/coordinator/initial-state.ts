import type { CoordinatorState } from "./state.ts";

/**
 * The state before any event. Its own module so that the fold of
 * `RunStarted` (fold-run.ts) can start from it without importing state.ts,
 * which imports every fold through the event registry.
 */
export function initialState(): CoordinatorState {
  return {
    run: null,
    issues: {},
    outside: {},
    loaded: false,
    paused: false,
    parked: null,
    parkedMs: 0,
    budget: { run: null, issue: null },
    epoch: 0,
    finished: null,
    lastEventAt: null,
  };
}
