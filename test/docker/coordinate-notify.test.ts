import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { explain, issueFile, rowOf, useCoordinateProjects } from "../support/coordinate-project.ts";

/**
 * Notifications on the real engine (issue 15): `notify.command` set to a
 * script that appends its stdin to a file, one issue failing (its scripted
 * agent exits 3, one attempt allowed), the other merging. The file holds
 * exactly one event per cause (the failure, the run's end); `--resume` of the
 * finished run sends none again. The run's report.md ends with the review.
 */

const project = useCoordinateProjects();
const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

interface Sent {
  readonly kind: string;
  readonly issue: number | null;
  readonly cause: string;
  readonly reason: string;
  readonly runId: string;
}

async function sentIn(file: string): Promise<Sent[]> {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line) as Sent);
}

describe("notifications of a coordinated run", () => {
  it("notify.command receives one event per cause, the failure and the end; --resume sends none again; report.md ends with the review", async () => {
    const out = await mkdtemp(path.join(os.tmpdir(), "cspace-notify-"));
    dirs.push(out);
    const file = path.join(out, "sent.ndjson");
    const p = await project({
      name: "co-notify",
      coordinator: { maxAttempts: 1 },
      notify: { command: ["/bin/sh", "-c", 'cat >> "$1"', "notify", file] },
      issues: {
        40: issueFile("Fail on purpose", "cspace-script: fail 3"),
        41: issueFile("Add the kept file", "cspace-script: commit kept.txt kept"),
      },
    });
    const run = await p.coordinate([40, 41], 300_000);
    expect(run.status, explain(run)).toBe(1);
    expect(rowOf(run.report, 40).status).toBe("failed");
    expect(rowOf(run.report, 41).status).toBe("merged");

    const sent = await sentIn(file);
    expect(sent.map((n) => [n.kind, n.issue, n.cause]), explain(run)).toEqual([
      ["failed", 40, "failed:40:1"],
      ["run-finished", null, "run-finished"],
    ]);
    expect(sent[0]?.reason).toContain("1 of 1 attempts failed");
    expect(sent[1]?.reason).toBe(`run ${run.report?.runId ?? ""} finished: 1 merged, 1 failed, 0 blocked (exit 1)`);

    // The markdown copy ends with the after-action review.
    const line = run.stdout.split("\n").find((l) => l.startsWith('{"kind":"report"'));
    const reportFile = (JSON.parse(line ?? "{}") as { reportFile?: string }).reportFile ?? "";
    const markdown = await readFile(reportFile, "utf8");
    const review = markdown.slice(markdown.indexOf("## After-action review"));
    expect(review).toMatch(/^## After-action review\n/);
    expect(review).toMatch(/### What went wrong\n\n- #40 failed: 1 of 1 attempts failed/);
    expect(review.trimEnd().split("\n").filter((l) => l.startsWith("#")).at(-1)).toBe("### What would have helped");

    const resumed = await p.coordinate([], 180_000, ["--resume"]);
    expect(resumed.status, explain(resumed)).toBe(1);
    expect(await sentIn(file)).toEqual(sent);
  }, 600_000);
});
