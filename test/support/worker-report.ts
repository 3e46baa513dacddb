import type { WorkerReport } from "../../src/core/agents/worker-status.ts";

/** A report of issue-1's finished agent that fits the protocol: tests change the one field they mean to break. */
export function sampleReport(id: string): WorkerReport {
  return {
    id,
    instance: "issue-1",
    outcome: "success",
    exitCode: 0,
    signal: null,
    branch: "issue-1",
    base: "main",
    headSha: "a".repeat(40),
    commitsAhead: 1,
    summary: "done",
    blockedReason: null,
    turns: 1,
    costUsd: null,
    sessionId: null,
    startedAt: "2026-05-01T10:00:00.000Z",
    endedAt: "2026-05-01T10:01:00.000Z",
  };
}
