// The real-container run: `cspace coordinate` (the built dist/) on a 3-issue
// chain of scripted agents that each sleep a known time, on the local forge,
// real Docker. Its wall time against the sum of the agents' sleeps is what
// containers, supervisors and the whole pipeline add.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

export const CONTAINER_CHAIN = 3;
export const AGENT_SECONDS = 2;
const BASE_IMAGE = "cspace-base:bookworm";

/** Why the run cannot happen here, or null when it can. */
export function containerRunBlocked(root: string): string | null {
  const pool = readFileSync(path.join(root, "src", "services", "coordinate", "docker-worker-pool.ts"), "utf8");
  if (pool.includes("not implemented yet")) return "the container pool is not ready";
  const built = path.join(root, "dist", "services", "coordinate-docker-worker-pool.js");
  if (!existsSync(path.join(root, "dist", "cli", "main.js")) || !existsSync(built)) return "dist/ is not built (npm run build)";
  if (readFileSync(built, "utf8").includes("not implemented yet")) return "dist/ predates the container pool (npm run build)";
  const engine = spawnSync(process.execPath, [path.join(root, "bench", "startup", "engine-get.mjs")], { stdio: "ignore" });
  if (engine.status !== 0) return "no Docker engine answers (DOCKER_HOST or /var/run/docker.sock)";
  return null;
}

export interface ContainerFigures {
  readonly exitCode: number | null;
  readonly wall: number;
  readonly agentSum: number;
  /** Each Reported → the next issue's Launch action started, from the NDJSON progress. */
  readonly reportToLaunch: readonly number[];
  /** cspace coordinate started → the first Launch action (loading, warming every instance). */
  readonly startup: number;
  /** The last Reported → the process exited (the last push, pull request and merge, the report, --down). */
  readonly ending: number;
  readonly tail: string;
}

interface Line {
  readonly kind?: string;
  readonly at?: string;
  readonly event?: { readonly type?: string; readonly at?: string; readonly issue?: number };
  readonly action?: { readonly type?: string; readonly issue?: number };
}

export async function containerRun(root: string, dir: string): Promise<ContainerFigures> {
  const repo = path.join(dir, "repo");
  await mkdir(path.join(repo, ".devcontainer"), { recursive: true });
  await mkdir(path.join(repo, ".cspace", "issues"), { recursive: true });
  const config = { project: { name: `bench-coordinate-${String(process.pid)}` }, agent: { preset: "scripted" }, forge: { type: "local", remote: "../remote.git" }, coordinator: { maxParallel: 3, stacking: false } };
  await writeFile(path.join(repo, ".cspace.json"), `${JSON.stringify(config, null, 2)}\n`);
  await writeFile(path.join(repo, ".devcontainer", "devcontainer.json"), `${JSON.stringify({ image: BASE_IMAGE }, null, 2)}\n`);
  await writeFile(path.join(repo, "README.md"), "# bench\n");
  for (let issue = 1; issue <= CONTAINER_CHAIN; issue++) {
    const deps = issue === 1 ? "" : `blocked-by: #${String(issue - 1)}\n\n`;
    await writeFile(path.join(repo, ".cspace", "issues", `${String(issue)}.md`), `---\ntitle: Step ${String(issue)}\n---\n${deps}cspace-script: sleep ${String(AGENT_SECONDS)}\ncspace-script: commit step-${String(issue)}.txt done\n`);
  }
  const git = (...args: string[]): void => {
    execFileSync("git", args, { cwd: repo, stdio: "ignore" });
  };
  git("init", "--quiet", "--initial-branch=main");
  git("-c", "user.name=bench", "-c", "user.email=bench@cspace.invalid", "add", "-A");
  git("-c", "user.name=bench", "-c", "user.email=bench@cspace.invalid", "commit", "--quiet", "-m", "bench");
  execFileSync("git", ["clone", "--quiet", "--bare", repo, path.join(dir, "remote.git")], { stdio: "ignore" });
  const env = { ...process.env, CSPACE_DATA_DIR: path.join(dir, "data"), CSPACE_RUN_DIR: path.join(dir, "run"), NO_COLOR: "1" };
  const numbers = Array.from({ length: CONTAINER_CHAIN }, (_, i) => String(i + 1));
  const started = Date.now();
  const child = spawn(process.execPath, [path.join(root, "bin", "cspace"), "--cwd", repo, "coordinate", ...numbers, "--down", "--json"], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  const exitCode = await new Promise<number | null>((resolve) => child.on("close", (code) => { resolve(code); }));
  const wall = Date.now() - started;
  const lines = stdout.split("\n").flatMap((text): Line[] => {
    try {
      return [JSON.parse(text) as Line];
    } catch {
      return [];
    }
  });
  const reported = new Map<number, number>();
  const launchStarted = new Map<number, number>();
  for (const line of lines) {
    if (line.kind === "event" && line.event?.type === "Reported" && line.event.issue !== undefined && line.event.at !== undefined) reported.set(line.event.issue, Date.parse(line.event.at));
    if (line.kind === "action" && line.action?.type === "Launch" && line.action.issue !== undefined && line.at !== undefined && !launchStarted.has(line.action.issue)) launchStarted.set(line.action.issue, Date.parse(line.at));
  }
  const reportToLaunch = Array.from({ length: CONTAINER_CHAIN - 1 }, (_, i) => (launchStarted.get(i + 2) ?? Number.NaN) - (reported.get(i + 1) ?? Number.NaN)).filter(Number.isFinite);
  return {
    exitCode,
    wall,
    agentSum: CONTAINER_CHAIN * AGENT_SECONDS * 1000,
    reportToLaunch,
    startup: Math.min(...launchStarted.values()) - started,
    ending: started + wall - Math.max(...reported.values()),
    tail: `${stderr}${stdout}`.slice(-1500),
  };
}
