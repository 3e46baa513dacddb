// Measures planning on generated backlogs of 100, 1,000 and 10,000 issues:
// the pure core (graph + planner) in-process, and `cspace plan --json` as a
// whole process, the two measured in turn. Run: `npm run bench:plan` (or
// `node bench/plan/run.ts` after `npm run build`). Prints a table, the
// per-issue cost ratio largest/smallest and what the process costs over the core.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildDependencyGraph } from "../../src/core/graph/dependency-graph.ts";
import type { Issue } from "../../src/core/issues/issue.ts";
import { planRound } from "../../src/core/plan/planner.ts";
import { generateIssues, writeProject } from "./generate.ts";

const SIZES = [100, 1_000, 10_000];
const CORE_TARGET_MS = 200;
const root = fileURLToPath(new URL("../..", import.meta.url));

interface Row {
  readonly size: number;
  readonly coreMs: number;
  /** null when the process was not measured; the reason is in `note`. */
  readonly processMs: number | null;
  readonly note: string;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function planCore(issues: readonly Issue[]): number {
  const selected = issues.filter((issue) => issue.state === "open").map((issue) => issue.number);
  const graph = buildDependencyGraph(issues, { selected, repo: null });
  const plan = planRound({
    graph,
    issues,
    selected,
    featureBranch: "main",
    maxParallel: 4,
    launched: new Set(),
    merged: new Set(),
    externalStates: new Map(),
  });
  return plan.issues.length;
}

const ROUNDS = 5;

/** One sample of the core: the median of a batch of at least 15 runs, or as many as fit in 100 ms. */
function coreSample(issues: readonly Issue[]): number {
  const runs: number[] = [];
  const started = performance.now();
  while (runs.length < 15 || (performance.now() - started < 100 && runs.length < 500)) {
    const started = performance.now();
    planCore(issues);
    runs.push(performance.now() - started);
  }
  return median(runs);
}

/** Wall time of one `node bin/cspace plan --json --cwd <dir>`, or why it could not be measured. */
function processSample(dir: string, expected: number): { ms: number } | { note: string } {
  const started = performance.now();
  const child = spawnSync(process.execPath, [path.join(root, "bin", "cspace"), "plan", "--json", "--cwd", dir], {
    encoding: "utf8",
    maxBuffer: 512 * 1024 * 1024,
  });
  const ms = performance.now() - started;
  if (child.status !== 0) return { note: `cspace plan exited ${String(child.status)}: ${reasonOf(child.stderr || child.error?.message || "")}` };
  const count = planned(child.stdout);
  if (count !== expected) return { note: `cspace plan printed ${String(count)} issues, expected ${expected}` };
  return { ms };
}

/**
 * The core and the whole process in turn, ROUNDS times, after a warm-up of
 * each (the core's JIT, the process's page and compile caches), flipping
 * which goes first every round; medians of each, and of their ratio.
 */
function measure(issues: readonly Issue[], dir: string, expected: number): Omit<Row, "size"> {
  for (let i = 0; i < 5; i++) planCore(issues);
  const hasDist = existsSync(path.join(root, "dist", "cli", "main.js"));
  const warmUp = hasDist ? processSample(dir, expected) : { note: "dist/ is missing: run `npm run build` first" };
  const cores: number[] = [];
  const processes: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const sample = (): void => {
      if (!("ms" in warmUp)) return;
      const result = processSample(dir, expected);
      if ("ms" in result) processes.push(result.ms);
    };
    if (round % 2 === 0) {
      cores.push(coreSample(issues));
      sample();
    } else {
      sample();
      cores.push(coreSample(issues));
    }
  }
  const note = "note" in warmUp ? warmUp.note : processes.length < ROUNDS ? "a run failed" : "";
  return { coreMs: median(cores), processMs: processes.length === 0 ? null : median(processes), note };
}

/** The line of stderr that says what went wrong (a stack trace's `Error: …` line, or the first line). */
function reasonOf(stderr: string): string {
  const lines = stderr.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  const reason = lines.find((line) => /error/i.test(line)) ?? lines[0] ?? "no output";
  return reason.length > 200 ? `${reason.slice(0, 200)}…` : reason;
}

function planned(stdout: string): number | null {
  try {
    const data: unknown = JSON.parse(stdout);
    const issues = typeof data === "object" && data !== null && "issues" in data ? data.issues : null;
    return Array.isArray(issues) ? issues.length : null;
  } catch {
    return null;
  }
}

const fixed = (value: number | null, digits: number): string => (value === null ? "—" : value.toFixed(digits));

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const size of SIZES) {
    const issues = generateIssues(size);
    const dir = path.join(root, "bench", ".work", `plan-${size}`);
    await writeProject(dir, issues);
    const open = issues.filter((issue) => issue.state === "open").length;
    rows.push({ size, ...measure(issues, dir, open) });
  }

  const header = ["issues", "core ms", "core µs/issue", "process ms", "process µs/issue", "process/core"];
  const table = rows.map((row) => [
    row.size.toLocaleString("en-US"),
    fixed(row.coreMs, 2),
    fixed((row.coreMs * 1000) / row.size, 1),
    fixed(row.processMs, 0),
    fixed(row.processMs === null ? null : (row.processMs * 1000) / row.size, 1),
    row.processMs === null ? "—" : `${(row.processMs / row.coreMs).toFixed(0)}×`,
  ]);
  const widths = header.map((title, i) => Math.max(title.length, ...table.map((cells) => (cells[i] ?? "").length)));
  for (const cells of [header, ...table]) console.log(cells.map((cell, i) => cell.padStart(widths[i] ?? 0)).join("  "));

  const first = rows[0];
  const last = rows[rows.length - 1];
  if (first === undefined || last === undefined) return;
  const ratio = (a: number | null, b: number | null): string =>
    a === null || b === null ? "—" : `${((a / last.size) / (b / first.size)).toFixed(2)}×`;
  console.log(
    `\nper-issue cost, ${last.size.toLocaleString("en-US")} vs ${first.size} issues: ` +
      `core ${ratio(last.coreMs, first.coreMs)}, process ${ratio(last.processMs, first.processMs)} (1× = linear)`,
  );
  if (first.processMs !== null && last.processMs !== null) {
    // A process pays a fixed start-up; the slope between sizes shows how the rest grows.
    const slope = (last.processMs - first.processMs) / (last.size - first.size);
    console.log(
      `process: about ${(first.processMs - slope * first.size).toFixed(0)} ms of start-up, then ${(slope * 1000).toFixed(1)} µs per further issue`,
    );
  }
  for (const row of rows) {
    if (row.note !== "") console.log(`process, ${row.size.toLocaleString("en-US")} issues: not measured — ${row.note}`);
  }
  const verdict = last.coreMs < CORE_TARGET_MS ? "yes" : "NO";
  console.log(
    `${last.size.toLocaleString("en-US")} issues planned by the core in under ${CORE_TARGET_MS} ms: ${verdict} (${last.coreMs.toFixed(1)} ms)`,
  );
}

await main();
