import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { WorkerReport, WorkerStatus } from "../../src/core/agents/worker-status.ts";
import { collectOutbox } from "../../src/services/workers/outbox.ts";
import { listenAsCoordinator } from "../support/coordinator-socket.ts";
import { listed, script, waitForEvent, waitingForMessage, workerFixture } from "./worker-fixture.ts";

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe("workers on the real engine, with the scripted agent", () => {
  it("up starts an agent that commits on its branch; send reaches it mid-run and shows in logs; its report reaches a listening coordinator", async () => {
    const f = await workerFixture("wk-up", cleanups);
    // Warmed first, so the test coordinator can listen on the instance's own c.sock before the agent starts.
    expect((await f.cli(["warm", "w1"])).status).toBe(0);
    const coordinator = await listenAsCoordinator(f.paths("w1").coordinatorSocket, "w1");
    cleanups.push(() => coordinator.close());

    const up = await f.cli(["up", "w1", "--prompt", `Do the work.\n${script("commit one.txt first", "wait-message", "commit two.txt second")}`, "--json"]);
    expect(up.stderr).not.toContain("error");
    expect(up.status).toBe(0);
    const started = JSON.parse(up.stdout) as { instance: string; preset: string; branch: string; base: string; status: WorkerStatus };
    expect(started).toMatchObject({ instance: "w1", preset: "scripted", branch: "w1", base: "main", status: { instance: "w1", branch: "w1" } });

    await waitForEvent(f.paths("w1"), waitingForMessage);
    const sent = await f.cli(["send", "w1", "Please finish: commit the second file."]);
    expect([sent.status, sent.stderr]).toEqual([0, ""]);

    const report = await coordinator.waitForReport();
    expect(report).toMatchObject({ instance: "w1", outcome: "success", exitCode: 0, branch: "w1", base: "main", commitsAhead: 2 });
    expect(coordinator.received).toEqual([report.id]);

    // The commits are on the instance's branch in its workspace.
    const log = await f.sh("w1", "git rev-parse --abbrev-ref HEAD; git rev-parse HEAD; git log --format=%s -n 2 --name-only; cat .cspace-messages.log");
    expect(log).toMatch(/^w1\n/);
    expect(log).toContain(`${report.headSha ?? "no head"}\n`);
    expect(log).toContain("one.txt");
    expect(log).toContain("two.txt");
    expect(log).toContain("Please finish: commit the second file.");

    // The message shows in logs, as text and as raw events.
    const logs = await f.cli(["logs", "w1"]);
    expect(logs.status).toBe(0);
    expect(logs.stdout).toMatch(/ message +queued +Please finish: commit the second file\./);
    expect(logs.stdout).toMatch(/ message +delivered +Please finish: commit the second file\./);
    const raw = (await f.cli(["logs", "w1", "--json"])).stdout.trim().split("\n").map((l) => JSON.parse(l) as { source: string; type: string; text?: string });
    expect(raw.filter((e) => e.source === "message").map((e) => e.type)).toEqual(["queued", "delivered"]);
    // -f ends by itself once the supervisor is gone; here it still runs, so --since bounds a plain read instead.
    expect((await f.cli(["logs", "w1", "--since", "1d"])).stdout).toContain("report-delivered");

    const [row] = await listed(f);
    expect(row?.agent).toMatchObject({ state: "exited", label: "exited 0", turns: report.turns });
    const status = JSON.parse((await f.cli(["status", "w1", "--json"])).stdout) as { live: boolean; agent: { label: string } };
    expect(status).toMatchObject({ live: true, agent: { label: "exited 0" } });
  });

  it("with nobody listening the report stays in the outbox, and is collected later with the same id", async () => {
    const f = await workerFixture("wk-outbox", cleanups);
    const up = await f.cli(["up", "w2", "--prompt", script("commit a.txt alone"), "--follow"]);
    expect(up.status).toBe(0);
    expect(up.stdout).toMatch(/supervisor +exited +success \(exit 0\)/);
    const written = await waitForEvent(f.paths("w2"), (e) => e.type === "report-written");
    const id = written.text ?? "";
    const pending = JSON.parse(await readFile(path.join(f.paths("w2").outbox, `${id}.json`), "utf8")) as WorkerReport;
    expect(pending).toMatchObject({ id, instance: "w2", outcome: "success", commitsAhead: 1 });

    const stored = new Map<string, WorkerReport>();
    const collection = await collectOutbox(f.paths("w2"), { has: (r) => stored.has(r), persist: (r) => void stored.set(r.id, r) });
    expect(collection.collected.map((r) => r.id)).toEqual([id]);
    expect([...stored.keys()]).toEqual([id]);
    // A coordinator that starts now gets nothing again: the report was moved to delivered/.
    const coordinator = await listenAsCoordinator(f.paths("w2").coordinatorSocket, "w2");
    cleanups.push(() => coordinator.close());
    const again = await f.cli(["send", "w2", "cspace-script: fail 3"]);
    expect(again.status).toBe(0);
    const second = await coordinator.waitForReport();
    expect(second).toMatchObject({ instance: "w2", outcome: "failure", exitCode: 3 });
    expect(coordinator.received).toEqual([second.id]);
  });

  it("up --follow exits 1 when the agent fails, and cspace issue starts an issue's prompt on its branch", async () => {
    const f = await workerFixture("wk-issue", cleanups, {
      ".cspace/issues/5.md": `---\ntitle: Add the notes file\n---\nWrite notes.txt.\n\n${script("commit notes.txt from-the-issue")}\n`,
      ".cspace/issues/6.md": "---\ntitle: Use the notes\n---\nblocked-by: #5\n",
    });
    const failed = await f.cli(["up", "w3", "--prompt", script("fail 3"), "--follow"]);
    expect(failed.status).toBe(1);
    expect(failed.stderr).toContain("w3: the agent exited (failure, exit 3)");

    const waiting = await f.cli(["issue", "6"]);
    expect(waiting.status).toBe(2);
    expect(waiting.stderr).toContain("issue #6 must wait for #5");
    const issue = await f.cli(["issue", "5", "--follow"]);
    expect(issue.stderr).not.toContain("error");
    expect(issue.status).toBe(0);
    expect(issue.stdout).toContain("commit notes.txt from-the-issue");
    expect(await f.sh("issue-5", "git rev-parse --abbrev-ref HEAD; cat notes.txt")).toBe("issue-5\nfrom-the-issue\n");
    const prompt = await readFile(f.paths("issue-5").prompt, "utf8");
    expect(prompt).toContain("Add the notes file");
    expect(prompt).toContain("issue-5");
    const rows = await listed(f);
    expect(rows.map((r) => [r.instance, r.agent.label])).toEqual([
      ["issue-5", "exited 0"],
      ["w3", "exited 3"],
    ]);
  });
});
