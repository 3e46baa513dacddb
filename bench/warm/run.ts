// Measures `cspace warm` on a generated project with ~50 MB of history: the
// time to warm 1 instance and 4 at once (ratio), workspace creation against a
// plain clone (ratio), and the extra disk an instance costs. Drives the real
// binary with --json. Run: `npm run build && node bench/warm/run.ts`.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { rm, rmdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { GitWorkspaces } from "../../src/adapters/git/workspaces.ts";
import { generateRepo, SHAPE } from "./generate.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const work = path.join(root, "bench", ".work", "warm");
const project = path.join(work, "project");
const env: NodeJS.ProcessEnv = { ...process.env, CSPACE_DATA_DIR: path.join(work, "data"), CSPACE_RUN_DIR: path.join(work, "run"), NO_COLOR: "1" };
const ROUNDS = 5;
const SAMPLES = 5;
const TARGET = { parallel: 2.0, workspace: 0.2 };

interface Outcome {
  readonly instance: string;
  readonly status: string;
  readonly error: { readonly message: string } | null;
}

interface WorkspaceFigures {
  readonly storeMs: number;
  readonly createMs: number;
  readonly cloneMs: number;
  readonly localCloneMs: number;
  readonly extraKiB: number;
  readonly creates: readonly number[];
  readonly clones: readonly number[];
}

function cspace(args: readonly string[]): { ms: number; stdout: string } {
  const started = performance.now();
  const child = spawnSync(process.execPath, [path.join(root, "bin", "cspace"), "--cwd", project, "--json", ...args], { env, encoding: "utf8" });
  const ms = performance.now() - started;
  if (child.status !== 0) throw new Error(`cspace ${args.join(" ")} exited ${String(child.status)}:\n${child.stderr}${child.stdout}`);
  return { ms, stdout: child.stdout };
}

/** Warms fresh instances, checks each is ready, removes them again; the warm's wall time. */
function timeWarm(names: readonly string[]): number {
  execFileSync("sync");
  const { ms, stdout } = cspace(["warm", ...names]);
  const outcomes = (JSON.parse(stdout) as { instances: Outcome[] }).instances;
  const notReady = outcomes.filter((o) => o.status !== "ready");
  if (outcomes.length !== names.length || notReady.length > 0) {
    throw new Error(`warm did not make every instance ready: ${JSON.stringify(notReady.map((o) => [o.instance, o.status, o.error?.message]))}`);
  }
  cspace(["down", "--all"]);
  return ms;
}

async function time(work: () => unknown): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

async function settledTime(work: () => unknown): Promise<number> {
  execFileSync("sync");
  return time(work);
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function duKiB(target: string): number {
  return Number(execFileSync("du", ["-sk", target], { encoding: "utf8" }).split("\t")[0]);
}

const git = (cwd: string, ...args: string[]): void => {
  execFileSync("git", args, { cwd, stdio: "ignore" });
};

async function measureWorkspaces(): Promise<WorkspaceFigures> {
  // The adapter warm uses, on its own data directory: what one instance's checkout costs once the store exists.
  const workspaces = new GitWorkspaces({ projectDir: project, dataDir: path.join(work, "ws-data"), projectId: "bench" });
  let commit = "";
  const storeMs = await time(async () => (commit = await workspaces.resolveBase("main")));
  const creates: number[] = [];
  const clones: number[] = [];
  const localClones: number[] = [];
  // Interleaved, each after `sync`: the page cache's writeback of one run's files must not land in the next one's time.
  for (let i = 1; i <= SAMPLES; i++) {
    creates.push(await settledTime(() => workspaces.create(`ws-${String(i)}`, "main", commit)));
    // --no-local: what a clone costs when objects are really copied; a plain path clone hard-links them instead.
    clones.push(await settledTime(() => { git(work, "clone", "--quiet", "--no-local", project, path.join(work, `clone-${String(i)}`)); }));
    localClones.push(await settledTime(() => { git(work, "clone", "--quiet", project, path.join(work, `local-clone-${String(i)}`)); }));
  }
  const extraKiB = duKiB(workspaces.pathOf("ws-1"));
  return { storeMs, createMs: median(creates), cloneMs: median(clones), localCloneMs: median(localClones), extraKiB, creates, clones };
}

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;
const verdict = (ok: boolean): string => (ok ? "met" : "MISSED");

async function main(): Promise<void> {
  if (!existsSync(path.join(root, "dist", "cli", "main.js"))) throw new Error("dist/ is missing: run `npm run build` first");
  await rm(work, { recursive: true, force: true });
  const generated = await time(() => generateRepo(project, "bench-warm"));
  const history = execFileSync("git", ["rev-list", "--count", "main"], { cwd: project, encoding: "utf8" }).trim();
  const repoKiB = duKiB(path.join(project, ".git"));
  console.log(`repository: ${history} commits, ${SHAPE.files} files, .git ${mib(repoKiB)}, working tree ${mib(duKiB(project) - repoKiB)} (generated in ${s(generated)})`);
  // Before any warm: removing containers leaves the disk busy for a while, which would land in these small timings.
  const ws = await measureWorkspaces();
  try {
    // Warms once first so the object store and image check are behind us: both figures then measure warm itself.
    const primeMs = timeWarm(["prime"]);
    const one: number[] = [];
    const four: number[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      one.push(timeWarm([`one-${String(round)}`]));
      four.push(timeWarm([1, 2, 3, 4].map((i) => `four-${String(round)}-${String(i)}`)));
    }
    const t1 = median(one);
    const t4 = median(four);
    const parallel = t4 / t1;
    const wsRatio = ws.createMs / ws.cloneMs;
    console.log(`first warm (makes the object store): ${s(primeMs)}`);
    console.log(`warm 1 instance:  ${s(t1)}  (median of ${ROUNDS}: ${one.map(s).join(", ")})`);
    console.log(`warm 4 instances: ${s(t4)}  (median of ${ROUNDS}: ${four.map(s).join(", ")})`);
    console.log(`t(4)/t(1): ${parallel.toFixed(2)}  target ≤ ${TARGET.parallel.toFixed(1)}: ${verdict(parallel <= TARGET.parallel)}`);
    console.log(`object store, first fetch: ${s(ws.storeMs)}`);
    console.log(`workspace creation: ${s(ws.createMs)} (median of ${SAMPLES}: ${ws.creates.map(s).join(", ")}) vs git clone --no-local ${s(ws.cloneMs)} (median of ${SAMPLES}: ${ws.clones.map(s).join(", ")})`);
    console.log(`workspace/clone: ${wsRatio.toFixed(3)}  target ≤ ${TARGET.workspace.toFixed(1)}: ${verdict(wsRatio <= TARGET.workspace)}`);
    console.log(`  (a plain path clone, which hard-links objects instead of copying them: ${s(ws.localCloneMs)}; ratio ${(ws.createMs / ws.localCloneMs).toFixed(2)})`);
    console.log(`extra disk per instance: ${mib(ws.extraKiB)} vs repository ${mib(repoKiB)} (${((100 * ws.extraKiB) / repoKiB).toFixed(1)}%)`);
  } finally {
    spawnSync(process.execPath, [path.join(root, "bin", "cspace"), "--cwd", project, "down", "--all"], { env, stdio: "ignore" });
    await rm(work, { recursive: true, force: true });
    // bench/.work itself only when no other bench left anything in it.
    await rmdir(path.dirname(work)).catch(() => undefined);
  }
}

await main();
