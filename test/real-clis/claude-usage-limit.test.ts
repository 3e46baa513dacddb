import { beforeAll, describe, expect, it } from "vitest";
import { USAGE_LIMIT_MARGIN_MS } from "../../src/core/coordinator/usage-limits.ts";
import type { RunReport } from "../../src/core/coordinator/report.ts";
import { runCliAsync } from "../support/cli-async.ts";
import { explain, issueFile, rowOf } from "../support/coordinate-project.ts";
import { until } from "../support/coordinate-run.ts";
import { describeLog } from "./chain-scenario.ts";
import { agentClisImage, useRealCliProjects } from "./real-cli-project.ts";
import { eventsOfRun } from "./run-events.ts";

/**
 * Issue 13, finding 2 and its "Done when", against the real `claude`: the
 * account's usage limit met on the first request and reset during the run.
 *
 * Claude Code 2.1.332 reports a subscription's limit only when it talks to a
 * subscription or a gateway: a gateway-style ANTHROPIC_AUTH_TOKEN (an unsigned
 * JWT whose payload is {"aud":"claude-gateway"}) makes it read the model
 * server's `anthropic-ratelimit-unified-*` headers. And only a limit whose
 * retry-after is over a minute: one that resets sooner it waits out itself,
 * as an `api_retry` (429) and no limit at all (seen here). So the limit resets
 * 70 s after the first request that meets it, and the park lasts that plus
 * USAGE_LIMIT_MARGIN_MS: about three minutes and a quarter, on purpose.
 */

const GATEWAY_TOKEN = "eyJhbGciOiJub25lIn0.eyJhdWQiOiJjbGF1ZGUtZ2F0ZXdheSJ9.x";
const RESET_SECONDS = 70;

const SCRIPT = [
  `#model limit ${String(RESET_SECONDS)}s`,
  "#model shell printf hello > greeting.txt && git add greeting.txt && git commit -qm 'Add the greeting'",
  "#model say Committed the greeting.",
].join("\n");

const make = useRealCliProjects();
let image = "";
beforeAll(() => {
  image = agentClisImage();
}, 900_000);

describe("the real claude CLI meeting its account's usage limit", () => {
  it("parks the account until Claude's reset plus the margin, does not count the attempt, shows the park, and merges after the reset", async () => {
    const project = await make({
      name: "real-claude-limit",
      cli: "claude",
      image,
      issues: { 1: issueFile("Add the greeting", SCRIPT) },
      agent: { env: { ANTHROPIC_AUTH_TOKEN: GATEWAY_TOKEN } },
      // One attempt only: had the limit counted as a failed attempt, the issue would fail.
      coordinator: { maxAttempts: 1, maxParallel: 1 },
    });
    const running = project.coordinate([1], 540_000);
    const state = { ended: false };
    void running.finally(() => (state.ended = true));

    // While the account is parked, `cspace status` says so: the park, its end, and the issue waiting for it.
    const status = async (): Promise<RunReport | null> => {
      const out = await runCliAsync(["--cwd", project.repo.dir, "--json", "status"], { env: project.repo.env });
      return out.status === 0 ? (JSON.parse(out.stdout) as { report: RunReport | null }).report : null;
    };
    let parked: RunReport | null = null;
    await until(async () => {
      if (state.ended) return true;
      // A poll, not a wait for time: each look starts a CLI process, so not four a second on CI's two cores.
      await new Promise((resolve) => setTimeout(resolve, 2000));
      const report = await status();
      if (report?.parked != null) parked = report;
      return parked !== null;
    }, "the run parked by the usage limit", 400_000);

    const run = await running;
    const log = await project.modelLog();
    const why = `${explain(run)}\n--- model log\n${describeLog(log)}`;
    expect(parked, why).not.toBeNull();
    const seen = parked as RunReport | null;
    expect(seen?.parked?.account, why).toBe("claude");
    expect(rowOf(seen, 1).status, why).toBe("rate-limited");
    expect(run.status, why).toBe(0);

    // The model server refused the first request with the limit, then answered the same step once it reset.
    const limited = log.filter((e) => e.answer === "limit");
    expect(limited.length, why).toBeGreaterThanOrEqual(1);
    const resetsAt = new Date((limited[0]?.resetsAt ?? 0) * 1000).toISOString();
    expect(log.filter((e) => e.answer === "shell" && e.status === 200), why).toHaveLength(1);

    // The limit as cspace recorded it: Claude's reset and words, the account, the park to the reset plus the margin.
    const events = eventsOfRun(run.stdout);
    const rateLimited = events.filter((e) => e.type === "RateLimited");
    expect(rateLimited, why).toHaveLength(1);
    expect(rateLimited[0], why).toMatchObject({
      issue: 1,
      attempt: 1,
      account: "claude",
      resetsAt,
      until: new Date(Date.parse(resetsAt) + USAGE_LIMIT_MARGIN_MS).toISOString(),
      message: expect.stringMatching(/^You've hit your 5-hour limit · resets /) as string,
    });
    // The second launch came after the park, not before.
    const launches = events.filter((e) => e.type === "Launched");
    expect(launches.map((e) => e.attempt), why).toEqual([1, 2]);
    expect(Date.parse(String(launches[1]?.at)), why).toBeGreaterThanOrEqual(Date.parse(String(rateLimited[0]?.until)));

    // Merged with maxAttempts 1: the limited attempt was not counted as failed; the report shows the time parked.
    expect(project.subjects(), why).toEqual(["Add the greeting (closes #1)"]);
    const row = rowOf(run.report, 1);
    expect(row, why).toMatchObject({ status: "merged", attempts: 1, failedAttempts: 0 });
    expect(row.parkedMs, why).toBeGreaterThanOrEqual(USAGE_LIMIT_MARGIN_MS);
    expect(run.report?.parkedMs, why).toBeGreaterThanOrEqual(USAGE_LIMIT_MARGIN_MS);
  }, 600_000);
});
