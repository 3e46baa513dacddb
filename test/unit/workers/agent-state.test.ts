import { describe, expect, it } from "vitest";
import type { WorkerStatus } from "../../../src/core/agents/worker-status.ts";
import { agentView } from "../../../src/services/workers/agent-state.ts";
import { restartLaunch, resumedCost } from "../../../src/services/workers/restart.ts";
import { statusLines } from "../../../src/ui/worker-status.ts";

function status(fields: Partial<WorkerStatus> = {}): WorkerStatus {
  return {
    instance: "issue-1",
    preset: "claude",
    state: "working",
    exitCode: null,
    signal: null,
    turns: 3,
    costUsd: 0.5,
    sessionId: "s-1",
    lastActivity: "2026-05-01T10:00:00.000Z",
    queueDepth: 1,
    branch: "issue-1",
    headSha: null,
    pid: 7,
    startedAt: "2026-05-01T09:00:00.000Z",
    ...fields,
  };
}

describe("the host's view of an agent", () => {
  it("is the supervisor's word while it answers", () => {
    expect(agentView({ container: "running", live: status({ state: "idle" }), recorded: status({ state: "working" }), lastEventAt: null })).toMatchObject({ state: "idle", label: "idle", turns: 3, costUsd: 0.5, queueDepth: 1, lostBecause: null });
    expect(agentView({ container: "running", live: status({ state: "exited", exitCode: 2 }), recorded: null, lastEventAt: null }).label).toBe("exited 2");
    expect(agentView({ container: "running", live: status({ state: "exited", signal: "SIGKILL" }), recorded: null, lastEventAt: null }).label).toBe("exited SIGKILL");
  });

  it("shows the API error a working agent retries, as `cspace status` prints it", () => {
    const retrying = agentView({ container: "running", live: status({ state: "working", apiRetry: "API error 529, retry 3 of 10" }), recorded: null, lastEventAt: null });
    expect(retrying.apiRetry).toBe("API error 529, retry 3 of 10");
    expect(statusLines("issue-1", retrying, { branch: null, headSha: null, pid: null }, (_tone, text) => text)).toContain("  retrying:       API error 529, retry 3 of 10");
    // A stale word from state.json is not shown once nobody answers.
    expect(agentView({ container: "missing", live: null, recorded: status({ state: "working", apiRetry: "API error 529, retry 3 of 10" }), lastEventAt: null }).apiRetry).toBeNull();
  });

  it("is none when no supervisor ever wrote a state", () => {
    expect(agentView({ container: "running", live: null, recorded: null, lastEventAt: null })).toMatchObject({ state: "none", label: "none", turns: null });
  });

  it("is lost when nobody answers and state.json says the agent had not exited, whatever the container", () => {
    for (const [container, why] of [
      ["running", "the supervisor does not answer"],
      ["stopped", "the container is not running"],
      ["missing", "the container is gone"],
    ] as const) {
      const view = agentView({ container, live: null, recorded: status({ state: "working" }), lastEventAt: "2026-05-01T10:05:00.000Z" });
      expect(view).toMatchObject({ state: "lost", label: "lost", lostBecause: `${why} (agent was working)`, queueDepth: null });
      // The last event is later than state.json's last write (activity is written at most once a second).
      expect(view.lastActivity).toBe("2026-05-01T10:05:00.000Z");
    }
    expect(agentView({ container: "running", live: null, recorded: status({ state: "idle" }), lastEventAt: null }).state).toBe("lost");
  });

  it("stays exited when nobody answers after the agent's exit was recorded (its report is written)", () => {
    expect(agentView({ container: "stopped", live: null, recorded: status({ state: "exited", exitCode: 0 }), lastEventAt: null })).toMatchObject({ state: "exited", label: "exited 0", lostBecause: null });
  });
});

describe("restart's decision", () => {
  it("resumes the session of a resumable preset that has one", () => {
    expect(restartLaunch({ resumable: true }, "sess-9", "stuck")).toEqual({ resumeSessionId: "sess-9", restartReason: "stuck" });
  });

  it("starts over with the original prompt and the reason otherwise", () => {
    expect(restartLaunch({ resumable: false }, "sess-9", "stuck")).toEqual({ resumeSessionId: null, restartReason: "stuck" });
    expect(restartLaunch({ resumable: true }, null, "stuck")).toEqual({ resumeSessionId: null, restartReason: "stuck" });
  });

  it("tells the new supervisor what was counted of the resumed session before it: the old supervisor's count and its own launch's", () => {
    const fresh = { resumeSessionId: null, resumedCostUsd: null };
    expect(resumedCost("s", { sessionId: "s", costUsd: 0.375 }, fresh)).toBe(0.375);
    // Stopped before its agent printed a result: it counted nothing, so the resumed total is still to count.
    expect(resumedCost("s", { sessionId: "s", costUsd: null }, fresh)).toBe(0);
    // A second restart adds what the first one's launch said was counted before it.
    expect(resumedCost("s", { sessionId: "s", costUsd: 0.1 }, { resumeSessionId: "s", resumedCostUsd: 0.375 })).toBe(0.475);
    // Its status went on from the first supervisor's totals ($0.375 carried, $0.1 its own): the carried part is not counted again.
    expect(resumedCost("s", { sessionId: "s", costUsd: 0.475 }, { resumeSessionId: "s", resumedCostUsd: 0.375, priorCostUsd: 0.375 })).toBe(0.475);
    // No session resumed, or nothing known: nothing to say.
    expect(resumedCost(null, { sessionId: "s", costUsd: 0.1 }, fresh)).toBeNull();
    expect(resumedCost("s", null, fresh)).toBeNull();
  });
});
