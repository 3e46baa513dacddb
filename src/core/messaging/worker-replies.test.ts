import { describe, expect, it } from "vitest";
import { checkWorkerReply } from "./worker-replies.ts";

const status = {
  instance: "issue-12",
  preset: "claude",
  state: "working",
  exitCode: null,
  signal: null,
  turns: 1,
  costUsd: 0.01,
  sessionId: "s-1",
  lastActivity: "2026-12-06T15:00:00.000Z",
  queueDepth: 0,
  branch: "issue-12",
  headSha: null,
  pid: 42,
  startedAt: "2026-12-06T14:59:00.000Z",
};

describe("a status reply as the host accepts it", () => {
  it("keeps the API retry the agent is in, so status can show it", () => {
    const checked = checkWorkerReply("status", { ok: true, status: { ...status, apiRetry: "API error 529, retry 3 of 10" } });
    expect(checked).toMatchObject({ ok: true, value: { status: { apiRetry: "API error 529, retry 3 of 10" } } });
  });

  it("refuses an API retry text that is not one short line", () => {
    const checked = checkWorkerReply("status", { ok: true, status: { ...status, apiRetry: "API error\n\x1b[2Jretry" } });
    expect(checked.ok).toBe(false);
  });
});
