// Measures `cspace warm` on a generated project with ~50 MB of history: the
// time to warm 1 instance and 4 at once (ratio), workspace creation against a
// plain clone (ratio), and the extra disk an instance costs. Drives the real
// binary with --json. Run: `npm run build && node bench/warm/run.ts`
// (`-- --workspaces-only` for the checkout figures alone, without an engine).
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
  /** Median ms of each way of making a checkout, by name. */
  readonly medians: Readonly<Record<Way, number>>;
  readonly samples: Readonly<Record<Way, readonly number[]>>;
  /** Medians of per-round ratios: the workspace against each clone, and the two designs against each other. */
  readonly ratios: { readonly localClone: number; readonly noLocalClone: number; readonly localOverShared: number; readonly copyOverShared: number };
  readonly extraKiB: number;
}

type Way = "workspace" | "localClone" | "noLocalClone" | "storeLocal" | "storeShared" | "storeCopy";

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

/** Disk used by all the targets together, each inode counted once. */
function duKiB(...targets: string[]): number {
  const lines = execFileSync("du", ["-sk", ...targets], { encoding: "utf8" }).trim().split("\n");
  return lines.reduce((sum, line) => sum + Number(line.split("\t")[0]), 0);
}

const git = (cwd: string, ...args: string[]): void => {
  execFileSync("git", args, { cwd, stdio: "ignore" });
};

async function measureWorkspaces(): Promise<WorkspaceFigures> {
  // The adapter warm uses, on its own data directory: what one instance's checkout costs once the store exists.
  const workspaces = new GitWorkspaces({ projectDir: project, dataDir: path.join(work, "ws-data"), projectId: "bench" });
  const storeMs = await time(() => workspaces.resolveBase("main"));
  const commit = await workspaces.resolveBase("main");
  const ways: Record<Way, (i: number) => unknown> = {
    // As warm does it: bring the store up to date with the project (a fetch with nothing new), then the checkout.
    workspace: async (i) => workspaces.create(`ws-${String(i)}`, "main", await workspaces.resolveBase("main")),
    // A plain path clone hard-links the project's objects: the cheapest clone git offers on one filesystem.
    localClone: (i) => {
      git(work, "clone", "--quiet", project, path.join(work, `local-clone-${String(i)}`));
    },
    // --no-local: what a clone costs when objects are really copied, as from a server.
    noLocalClone: (i) => {
      git(work, "clone", "--quiet", "--no-local", project, path.join(work, `clone-${String(i)}`));
    },
    // The designs alone, on the same store: borrowing the store's objects through alternates (the design now) ...
    storeShared: (i) => {
      cloneFromStore("--shared", path.join(work, `store-shared-${String(i)}`));
    },
    // ... against hard-linked packs (the design before: a container could rewrite the store's objects through them) ...
    storeLocal: (i) => {
      cloneFromStore("--local", path.join(work, `store-local-${String(i)}`));
    },
    // ... and against copies of the packs (the other way to share no object file).
    storeCopy: (i) => {
      cloneFromStore("--no-hardlinks", path.join(work, `store-copy-${String(i)}`));
    },
  };
  const cloneFromStore = (how: string, dir: string): void => {
    git(work, "clone", "--quiet", how, "--no-checkout", workspaces.storePath, dir);
    git(dir, "checkout", "--quiet", "-B", "bench", commit);
  };
  const names = Object.keys(ways) as Way[];
  const samples: Record<Way, number[]> = { workspace: [], localClone: [], noLocalClone: [], storeLocal: [], storeShared: [], storeCopy: [] };
  // In turn, each after `sync` (the page cache's writeback of one run's files must not land in the next one's
  // time), starting each round with a different way so that none always runs right after the same other.
  for (let i = 1; i <= SAMPLES; i++) {
    for (let k = 0; k < names.length; k++) {
      const way = names[(i + k) % names.length] ?? "workspace";
      samples[way].push(await settledTime(() => ways[way](i)));
    }
  }
  const ratio = (one: Way, other: Way): number => median(samples[one].map((ms, i) => ms / (samples[other][i] ?? Number.NaN)));
  // du counts an inode once per call (packs hard-linked by an older checkout would not be extra); a checkout now borrows them.
  const extraKiB = duKiB(workspaces.storePath, workspaces.pathOf("ws-1")) - duKiB(workspaces.storePath);
  return {
    storeMs,
    medians: Object.fromEntries(names.map((way) => [way, median(samples[way])])) as Record<Way, number>,
    samples,
    ratios: { localClone: ratio("workspace", "localClone"), noLocalClone: ratio("workspace", "noLocalClone"), localOverShared: ratio("storeLocal", "storeShared"), copyOverShared: ratio("storeCopy", "storeShared") },
    extraKiB,
  };
}

const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;
const mib = (kib: number): string => `${(kib / 1024).toFixed(1)} MiB`;
const verdict = (ok: boolean): string => (ok ? "met" : "MISSED");

function printWorkspaces(ws: WorkspaceFigures, repoKiB: number): void {
  console.log(`object store, first fetch: ${s(ws.storeMs)}`);
  const row = (label: string, way: Way): string => `${label}${s(ws.medians[way])} (median of ${SAMPLES}: ${ws.samples[way].map(s).join(", ")})`;
  console.log(row("workspace (store fetch + clone --shared + checkout):", "workspace"));
  console.log(row("git clone <project> (local, hard-links):             ", "localClone"));
  console.log(row("git clone --no-local <project> (copies objects):     ", "noLocalClone"));
  console.log(row("  of which the design: clone --shared + checkout:    ", "storeShared"));
  console.log(row("  the design before: clone --local + checkout:       ", "storeLocal"));
  console.log(row("  copies instead: clone --no-hardlinks + checkout:   ", "storeCopy"));
  console.log(`workspace/clone --no-local: ${ws.ratios.noLocalClone.toFixed(3)}  target ≤ ${TARGET.workspace.toFixed(1)}: ${verdict(ws.ratios.noLocalClone <= TARGET.workspace)}`);
  console.log(
    `workspace/plain local clone: ${ws.ratios.localClone.toFixed(2)}   --local/--shared from the store: ${ws.ratios.localOverShared.toFixed(2)}   --no-hardlinks/--shared: ${ws.ratios.copyOverShared.toFixed(2)}  (medians of the per-round ratios)`,
  );
  console.log(`extra disk per instance: ${mib(ws.extraKiB)} vs repository ${mib(repoKiB)} (${((100 * ws.extraKiB) / repoKiB).toFixed(1)}%)`);
}

async function main(): Promise<void> {
  if (!existsSync(path.join(root, "dist", "cli", "main.js"))) throw new Error("dist/ is missing: run `npm run build` first");
  await rm(work, { recursive: true, force: true });
  const generated = await time(() => generateRepo(project, "bench-warm"));
  const history = execFileSync("git", ["rev-list", "--count", "main"], { cwd: project, encoding: "utf8" }).trim();
  const repoKiB = duKiB(path.join(project, ".git"));
  console.log(`repository: ${history} commits, ${SHAPE.files} files, .git ${mib(repoKiB)}, working tree ${mib(duKiB(project) - repoKiB)} (generated in ${s(generated)})`);
  try {
    // Before any warm: removing containers leaves the disk busy for a while, which would land in these small timings.
    printWorkspaces(await measureWorkspaces(), repoKiB);
    // `--workspaces-only`: the checkout figures without a Docker engine.
    if (process.argv.includes("--workspaces-only")) return;
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
    console.log(`first warm (makes the object store): ${s(primeMs)}`);
    console.log(`warm 1 instance:  ${s(t1)}  (median of ${ROUNDS}: ${one.map(s).join(", ")})`);
    console.log(`warm 4 instances: ${s(t4)}  (median of ${ROUNDS}: ${four.map(s).join(", ")})`);
    console.log(`t(4)/t(1): ${parallel.toFixed(2)}  target ≤ ${TARGET.parallel.toFixed(1)}: ${verdict(parallel <= TARGET.parallel)}`);
  } finally {
    spawnSync(process.execPath, [path.join(root, "bin", "cspace"), "--cwd", project, "down", "--all"], { env, stdio: "ignore" });
    await rm(work, { recursive: true, force: true });
    // bench/.work itself only when no other bench left anything in it.
    await rmdir(path.dirname(work)).catch(() => undefined);
  }
}

await main();
