// Measures how long cspace's short commands take as whole processes, each
// against a yardstick measured in the same run, the two run in turn:
// `--help` and a one-issue `plan` against a bare `node -e ''`, `list` against
// a bare Node script doing the one Engine API request `docker ps` does; then
// `plan` on 10,000 issues: wall time, peak memory, and whether it works with
// 256 file descriptors. Run: `npm run bench:startup` (builds dist/ first).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rm, rmdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generateIssues, writeProject } from "../plan/generate.ts";
import { comparePair, median, timeRun, type PairFigures, type Run } from "../support/processes.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const work = path.join(root, "bench", ".work", "startup");
// BENCH_CSPACE: another build's bin/cspace, to compare builds in like conditions (the README's "before").
const cspaceBin = process.env.BENCH_CSPACE === undefined ? path.join(root, "bin", "cspace") : path.resolve(process.env.BENCH_CSPACE);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 20);
const LARGE = 10_000;
const TARGET = { ratio: 1.5, largeMs: 500, largeMiB: 150, descriptors: 256 };
const env: NodeJS.ProcessEnv = { ...process.env, CSPACE_DATA_DIR: path.join(work, "data"), CSPACE_RUN_DIR: path.join(work, "run"), NO_COLOR: "1" };

const node = (...args: string[]): Run => ({ command: process.execPath, args, options: { env } });
const cspace = (project: string, args: readonly string[], check?: (stdout: string) => void): Run => ({
  command: process.execPath,
  args: [cspaceBin, "--cwd", project, ...args],
  options: { env },
  ...(check === undefined ? {} : { check }),
});

function expectIssues(count: number): (stdout: string) => void {
  return (stdout) => {
    const planned = (JSON.parse(stdout) as { issues?: unknown[] }).issues?.length;
    if (planned !== count) throw new Error(`cspace plan printed ${String(planned)} issues, expected ${String(count)}`);
  };
}

async function smallProject(dir: string): Promise<void> {
  await mkdir(path.join(dir, ".cspace", "issues"), { recursive: true });
  await writeFile(path.join(dir, ".cspace.json"), `${JSON.stringify({ project: { name: "bench-startup" } })}\n`);
  await writeFile(path.join(dir, ".cspace", "issues", "1.md"), "---\ntitle: The only issue\nstate: open\n---\nNothing depends on it.\n");
  const git = (...args: string[]): void => {
    execFileSync("git", ["-C", dir, ...args], { stdio: "ignore" });
  };
  git("init", "--quiet", "--initial-branch=main");
  git("add", "-A");
  git("-c", "user.name=bench", "-c", "user.email=bench@cspace.invalid", "commit", "--quiet", "-m", "init");
}

/** Peak resident memory of one run, in MiB, read by a preloaded module inside it. */
function peakMiB(run: Run): number {
  const file = path.join(work, "max-rss");
  timeRun({ ...run, args: ["--import", path.join(root, "bench", "startup", "max-rss.mjs"), ...run.args], options: { env: { ...env, CSPACE_BENCH_RSS_FILE: file } } });
  return Number(readFileSync(file, "utf8")) / 1024;
}

/** The packages one run loads from node_modules, recorded by a preloaded resolve hook (a separate run, not timed). */
function loadedPackages(run: Run): string[] {
  const file = path.join(work, "packages");
  timeRun({ ...run, args: ["--import", path.join(root, "bench", "startup", "loaded-packages.mjs"), ...run.args], options: { env: { ...env, CSPACE_BENCH_PACKAGES_FILE: file } } });
  return readFileSync(file, "utf8").split("\n").filter((name) => name !== "");
}

/** The dashboard's packages: loaded by `coordinate`, `demo` and `status --watch` on a terminal, and by nothing else. */
const DASHBOARD_PACKAGES = ["ink", "react"];

/** `control`: a run that must load them, proving the hook sees them. */
function printPackages(label: string, run: Run, control = false): void {
  const loaded = loadedPackages(run);
  const dashboard = loaded.filter((name) => DASHBOARD_PACKAGES.includes(name));
  const verdictText = control ? (dashboard.length === DASHBOARD_PACKAGES.length ? "seen (the hook works)" : "NOT SEEN (the check is blind)") : dashboard.length === 0 ? "not loaded (met)" : `${dashboard.join(", ")} LOADED (MISSED)`;
  console.log(`${label.padEnd(24)} ink/react: ${verdictText}; packages loaded: ${loaded.length === 0 ? "none" : loaded.join(", ")}`);
}

/** Whether the run succeeds with at most `limit` open files (macOS's default is 256); the failure's first lines otherwise. */
function underDescriptorLimit(run: Run, limit: number): string {
  const child = spawnSync("/bin/sh", ["-c", `ulimit -n ${String(limit)} && exec "$0" "$@"`, run.command, ...run.args], { env, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
  if (child.status !== 0) return `FAILED (exit ${String(child.status)}): ${child.stderr.split("\n").slice(0, 2).join(" ")}`;
  try {
    run.check?.(child.stdout);
  } catch (error) {
    return `FAILED: ${String(error)}`;
  }
  return "works";
}

function engineAnswers(): boolean {
  return spawnSync(process.execPath, [path.join(root, "bench", "startup", "engine-get.mjs")], { env, stdio: "ignore" }).status === 0;
}

const ms = (value: number): string => `${value.toFixed(0)} ms`;
/** The machine's load, printed before and after: on a shared machine it says how far to trust the figures. */
const load = (): string => `load average ${os.loadavg().map((value) => value.toFixed(2)).join(", ")} (1, 5, 15 min) on ${String(os.availableParallelism())} CPUs`;
const verdict = (ok: boolean): string => (ok ? "met" : "MISSED");

function printPair(label: string, baseline: string, figures: PairFigures): void {
  console.log(
    `${label.padEnd(24)} ${ms(figures.a).padStart(7)} vs ${baseline.padEnd(26)} ${ms(figures.b).padStart(7)}  ` +
      `ratio ${figures.ratio.toFixed(2)} (${figures.ratioMin.toFixed(2)}–${figures.ratioMax.toFixed(2)})  ` +
      `target ≤ ${TARGET.ratio.toFixed(1)}: ${verdict(figures.ratio <= TARGET.ratio)}`,
  );
}

async function main(): Promise<void> {
  if (!existsSync(path.join(path.dirname(cspaceBin), "..", "dist", "cli", "main.js"))) throw new Error("dist/ is missing: run `npm run build` first");
  await rm(work, { recursive: true, force: true });
  await mkdir(path.join(work, "run"), { recursive: true, mode: 0o700 });
  const small = path.join(work, "small");
  const large = path.join(work, "large");
  await smallProject(small);
  const issues = generateIssues(LARGE);
  await writeProject(large, issues);
  const open = issues.filter((issue) => issue.state === "open").length;
  try {
    console.log(`whole processes, ${String(ROUNDS)} pairs each, the two sides in turn; medians (ratio: median of the pairs' ratios, and their range)`);
    console.log(`${cspaceBin}; before: ${load()}\n`);
    printPair("cspace --help", "node -e ''", comparePair(cspace(small, ["--help"]), node("-e", ""), ROUNDS));
    printPair("cspace plan (1 issue)", "node -e ''", comparePair(cspace(small, ["plan", "--json"], expectIssues(1)), node("-e", ""), ROUNDS));
    if (engineAnswers()) {
      const list = cspace(small, ["list", "--json"], (stdout) => {
        if ((JSON.parse(stdout) as { instances: unknown[] }).instances.length !== 0) throw new Error("the bench project has instances");
      });
      printPair("cspace list (none)", "one GET /containers/json", comparePair(list, node(path.join(root, "bench", "startup", "engine-get.mjs"), "bench-startup"), ROUNDS));
    } else {
      console.log("cspace list: not measured, no Docker engine answers (DOCKER_HOST or /var/run/docker.sock)");
    }

    console.log("");
    printPackages("cspace --help", cspace(small, ["--help"]));
    printPackages("cspace plan (1 issue)", cspace(small, ["plan", "--json"], expectIssues(1)));
    printPackages("cspace status (no run)", cspace(small, ["status"]));
    if (engineAnswers()) printPackages("cspace list (none)", cspace(small, ["list", "--json"]));
    printPackages("control: import(\"ink\")", node("--input-type=module", "-e", 'await import("ink"); await import("react");'), true);

    const plan = cspace(large, ["plan", "--json"], expectIssues(open));
    timeRun(plan);
    const walls = Array.from({ length: 5 }, () => timeRun(plan));
    const wall = median(walls);
    const peak = peakMiB(plan);
    const limited = underDescriptorLimit(plan, TARGET.descriptors);
    console.log(`\ncspace plan, ${LARGE.toLocaleString("en-US")} issues (${open.toLocaleString("en-US")} open):`);
    console.log(`  wall ${ms(wall)} (median of 5: ${walls.map(ms).join(", ")})  target < ${ms(TARGET.largeMs)}: ${verdict(wall < TARGET.largeMs)}`);
    console.log(`  peak memory ${peak.toFixed(0)} MiB  target < ${String(TARGET.largeMiB)} MiB: ${verdict(peak < TARGET.largeMiB)}`);
    console.log(`  with ulimit -n ${String(TARGET.descriptors)}: ${limited}`);
    console.log(`\nafter: ${load()}`);
  } finally {
    await rm(work, { recursive: true, force: true });
    // bench/.work itself only when no other bench left anything in it.
    await rmdir(path.dirname(work)).catch(() => undefined);
  }
}

await main();
