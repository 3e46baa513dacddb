// What seeing conflicts coming costs: one `BranchMover.predictConflicts`
// (merge-tree --write-tree in the host's store, no checkout) per pair of
// branches, at 50 in-flight branches, against a baseline measured in the same
// run: one `git rev-parse` per pair in the same store (the cheapest git
// process there is: what any per-pair git call costs at least). The two are
// measured in turn, flipping which goes first each round. A prediction round
// of the coordinator asks about each branch with the feature branch and with
// every branch merging before it whose changed paths meet its own (one diff
// per head): the bench times such a first round too.
// Run: `node bench/predict/run.ts` (BENCH_ROUNDS, BENCH_BRANCHES).
import { execFileSync } from "node:child_process";
import { mkdir, rm, rmdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createGitBranchMover } from "../../src/adapters/git/remote/git-branch-mover.ts";
import { localRemote } from "../../src/adapters/git/remote/remote.ts";
import { median } from "../support/processes.ts";

const root = fileURLToPath(new URL("../..", import.meta.url));
const work = path.join(root, "bench", ".work", "predict");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BRANCHES = Number(process.env.BENCH_BRANCHES ?? 50);
/** Pairs measured per round and mode (a sample of the 1,275: the cost per pair is what is compared). */
const PAIRS = Number(process.env.BENCH_PAIRS ?? 100);
const FILES = 200;

const git = (cwd: string, ...args: string[]): string =>
  execFileSync("git", ["-c", "user.name=bench", "-c", "user.email=bench@cspace.invalid", "-c", "commit.gpgsign=false", ...args], { cwd, encoding: "utf8", env: { ...process.env, GIT_CONFIG_GLOBAL: "/dev/null" } }).trim();

/** A project of FILES files of 40 lines; BRANCHES branches each change 3 lines of 2 files: some pairs share a file, a few of those the lines. */
async function makeRepository(): Promise<{ remote: string; store: string; branches: string[]; feature: string }> {
  const seed = path.join(work, "seed");
  const remote = path.join(work, "remote.git");
  const store = path.join(work, "store.git");
  await mkdir(seed, { recursive: true });
  git(seed, "init", "--quiet", "-b", "main");
  const { writeFile } = await import("node:fs/promises");
  await mkdir(path.join(seed, "src"), { recursive: true });
  for (let f = 0; f < FILES; f++) await writeFile(path.join(seed, "src", `f${String(f)}.ts`), Array.from({ length: 40 }, (_, l) => `export const v${String(l)} = ${String(l)};`).join("\n") + "\n");
  git(seed, "add", "-A");
  git(seed, "commit", "--quiet", "-m", "base");
  const branches: string[] = [];
  for (let b = 1; b <= BRANCHES; b++) {
    const branch = `issue-${String(b)}`;
    branches.push(branch);
    git(seed, "checkout", "--quiet", "-b", branch, "main");
    for (const f of [b % 10, 10 + ((b * 13) % (FILES - 10))]) {
      const file = path.join(seed, "src", `f${String(f)}.ts`);
      const lines = Array.from({ length: 40 }, (_, l) => `export const v${String(l)} = ${String(l)};`);
      for (const l of [(b % 3) * 10, (b % 3) * 10 + 1, (b % 3) * 10 + 2]) lines[l] = `export const v${String(l)} = ${String(b * 1000 + l)}; // ${branch}`;
      await writeFile(file, lines.join("\n") + "\n");
    }
    git(seed, "commit", "--quiet", "-am", branch);
  }
  git(seed, "checkout", "--quiet", "main");
  git(work, "clone", "--quiet", "--bare", seed, remote);
  git(work, "init", "--quiet", "--bare", store);
  return { remote, store, branches, feature: "main" };
}

async function main(): Promise<void> {
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  try {
    const { remote, store, branches, feature } = await makeRepository();
    const mover = createGitBranchMover({ remote: localRemote(work, remote), store, scratchDir: path.join(work, "scratch"), checkoutOf: (instance) => path.join(work, "checkouts", instance) });
    const heads = await mover.fetch([feature, ...branches]);
    const shas = branches.map((branch) => heads.get(branch) ?? "");
    const all: [string, string][] = [];
    for (let later = 0; later < shas.length; later++) for (let earlier = 0; earlier < later; earlier++) all.push([shas[earlier] ?? "", shas[later] ?? ""]);
    // A first round as the coordinator makes it (services/coordinate/predict.ts): each branch's changed paths,
    // a merge-tree with the feature branch, and one for each earlier branch whose changes meet its own.
    const round = performance.now();
    const featureSha = heads.get(feature) ?? "";
    const changed = new Map<string, Set<string>>();
    for (const sha of shas) changed.set(sha, new Set(await mover.changedPaths({ branch: sha, onto: featureSha })));
    let asked = 0;
    let conflicting = 0;
    for (const [index, later] of shas.entries()) {
      asked++;
      await mover.predictConflicts({ branch: later, onto: featureSha });
      for (const earlier of shas.slice(0, index)) {
        const mine = changed.get(later) ?? new Set<string>();
        if (![...(changed.get(earlier) ?? [])].some((path) => mine.has(path))) continue;
        asked++;
        if ((await mover.predictConflicts({ branch: later, onto: earlier })).length > 0) conflicting++;
      }
    }
    const roundMs = performance.now() - round;
    const predict = async (pairs: readonly [string, string][]): Promise<number> => {
      const started = performance.now();
      for (const [onto, branch] of pairs) await mover.predictConflicts({ branch, onto });
      return (performance.now() - started) / pairs.length;
    };
    const revParse = (pairs: readonly [string, string][]): number => {
      const started = performance.now();
      for (const [onto] of pairs) execFileSync("git", ["--git-dir", store, "rev-parse", "--verify", "--quiet", onto], { encoding: "utf8" });
      return (performance.now() - started) / pairs.length;
    };
    const perPair: number[] = [];
    const baseline: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const sample = Array.from({ length: PAIRS }, (_, i): [string, string] => all[(round * 997 + i * 13) % all.length] ?? ["", ""]);
      let p = 0;
      let b = 0;
      if (round % 2 === 0) {
        p = await predict(sample);
        b = revParse(sample);
      } else {
        b = revParse(sample);
        p = await predict(sample);
      }
      perPair.push(p);
      baseline.push(b);
      ratios.push(p / b);
    }
    const ms = (value: number): string => `${value.toFixed(1)} ms`;
    console.log(`${String(BRANCHES)} branches, ${String(all.length)} pairs (${String(conflicting)} conflicting); ${String(ROUNDS)} rounds of ${String(PAIRS)} pairs per mode, in turn; medians\n`);
    console.log(`a first prediction round: ${(roundMs / 1000).toFixed(1)} s (${String(BRANCHES)} diffs, ${String(asked)} merge-trees: ${String(BRANCHES)} with the feature branch, ${String(asked - BRANCHES)} pairs whose changes meet)`);
    console.log(`predictConflicts per pair   ${ms(median(perPair))}`);
    console.log(`git rev-parse per pair      ${ms(median(baseline))}   (baseline)`);
    console.log(`ratio                       ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`);
    console.log(`every one of the ${String(all.length)} pairs by merge-tree would take about ${((median(perPair) * all.length) / 1000).toFixed(0)} s`);
  } finally {
    await rm(work, { recursive: true, force: true });
    await rmdir(path.dirname(work)).catch(() => undefined);
  }
}

await main();
