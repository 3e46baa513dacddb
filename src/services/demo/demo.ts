import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, rm, rmdir, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runGit } from "../../adapters/git/run-git.ts";
import type { ProgressListener } from "../../core/coordinator-runtime/progress.ts";
import { baseImage } from "../../core/doctor/checks.ts";
import { UserError } from "../../core/errors.ts";
import { projectId } from "../../core/run-dir.ts";
import { coordinate, type CoordinateResult } from "../coordinate/coordinate.ts";
import { downAndPurge } from "../instances/down.ts";
import { openProject } from "../project.ts";
import { readConfigFile } from "../../adapters/config/config-files.ts";
import { resolveConfig } from "../../core/config/layers.ts";
import { DEMO_ISSUE_RANGE, DEMO_README, demoIssues, issueFile, REBASE_TEMPLATE, type DemoIssue } from "./scenario.ts";

export interface DemoOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Where to make the project (empty or missing); a new temporary directory otherwise. */
  readonly dir?: string | undefined;
  /** Keep the instances, the run's data and the directory after the run (removed by default: the project is throwaway). */
  readonly keep?: boolean | undefined;
  /** How many issues (DEMO_ISSUE_RANGE); the seven of DEMO_ISSUES by default. */
  readonly issues?: number | undefined;
  /**
   * A JSONC file holding the `workers` settings (hosts, placement) the
   * demo's project uses, to spread its workers over several hosts; checked
   * before anything is made. Absent: the local engine alone.
   */
  readonly workersFile?: string | undefined;
  readonly onProgress?: ProgressListener | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Called once the project exists, before the run: where it is. */
  readonly onCreated?: ((created: DemoProject) => void) | undefined;
  /** Called once the run is opened, with where a view finds it (the dashboard follows it). */
  readonly onRunOpened?: ((run: { readonly runId: string; readonly cwd: string; readonly env: NodeJS.ProcessEnv }) => void) | undefined;
}

export interface DemoProject {
  readonly dir: string;
  readonly projectDir: string;
  readonly remote: string;
  /** What its containers are labelled with (`dev.cspace.project`). */
  readonly projectId: string;
}

export interface DemoResult extends DemoProject {
  readonly run: CoordinateResult;
  /** The forge's main after the run, `git log --oneline`, newest first: read before a temporary directory goes. */
  readonly merged: readonly string[];
  /** What is left for a look around: everything (`--keep`), the named directory (`--dir`), or nothing. */
  readonly left: "everything" | "directory" | "nothing";
}

/**
 * `cspace demo`: generates a project on the local forge whose agents are
 * scripted, then runs `cspace coordinate` on every issue in real
 * containers. Its data (object store, event log) and run directory are where
 * any project's are, found from the project's directory alone: `cspace
 * status`, `list` and `down` run in `<dir>/project` find them with no
 * variable set. Without `--keep` it removes what it made afterwards: the
 * instances, the data and the run directory (`down --all --purge`), and the
 * directory itself when it was a temporary one.
 */
export async function demo(options: DemoOptions): Promise<DemoResult> {
  const count = options.issues ?? DEMO_ISSUE_RANGE.default;
  if (!Number.isInteger(count) || count < DEMO_ISSUE_RANGE.min || count > DEMO_ISSUE_RANGE.max) {
    throw new UserError(`--issues ${String(count)} is not a number of issues from ${String(DEMO_ISSUE_RANGE.min)} to ${String(DEMO_ISSUE_RANGE.max)}`, { hint: "cspace demo --issues 10" });
  }
  const issues = demoIssues(count);
  const workers = options.workersFile === undefined ? undefined : await readWorkers(options.workersFile);
  const created = await makeDemoProject(options.dir, issues, workers);
  options.onCreated?.(created);
  // The folder above the run directory (`<tmp>/cspace-<uid>`), when this demo is the one that makes it: removed with it.
  const runTop = (await openProject({ cwd: created.projectDir, env: options.env })).runDirSpec.made[0];
  const runTopIsNew = runTop !== undefined && !(await present(runTop));
  const keep = options.keep === true;
  const run = await coordinate({
    cwd: created.projectDir,
    env: options.env,
    numbers: issues.map((issue) => issue.number),
    down: !keep,
    onProgress: options.onProgress,
    signal: options.signal,
    onRunOpened: (runId) => options.onRunOpened?.({ runId, cwd: created.projectDir, env: options.env }),
  });
  const log = await runGit(["--git-dir", created.remote, "log", "--oneline", "main"], { cwd: created.dir });
  const merged = log.stdout.split("\n").filter((line) => line !== "");
  if (keep) return { ...created, run, merged, left: "everything" };
  await downAndPurge({ cwd: created.projectDir, env: options.env });
  if (runTopIsNew) await rmdir(runTop).catch(() => undefined);
  if (options.dir !== undefined) return { ...created, run, merged, left: "directory" };
  await rm(created.dir, { recursive: true, force: true });
  return { ...created, run, merged, left: "nothing" };
}

/** The `workers` settings in `file`, checked as the project's configuration would check them (a problem names the file). */
async function readWorkers(file: string): Promise<unknown> {
  const label = `--workers ${file}`;
  const read = await readConfigFile(path.resolve(file), label);
  if (!read.found) throw new UserError(`${label}: no such file`, { hint: 'Write the workers settings there, like {"hosts": [{"name": "local"}, {"name": "big", "docker": "ssh://ci@build-1", "slots": 4}]}' });
  resolveConfig({ files: [{ source: label, value: { workers: read.value } }], env: {}, defaultProjectName: "demo" });
  return read.value;
}

export async function makeDemoProject(dir: string | undefined, issues: readonly DemoIssue[] = demoIssues(DEMO_ISSUE_RANGE.default), workers?: unknown): Promise<DemoProject> {
  const root = dir === undefined ? await mkdtemp(path.join(os.tmpdir(), "cspace-demo-")) : path.resolve(dir);
  if (dir !== undefined) {
    const entries = await readdir(root).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    });
    if (entries.length > 0) throw new UserError(`--dir ${dir} is not empty; the demo makes its project in an empty directory`, { hint: "name a new directory, or leave --dir out for a temporary one" });
  }
  const projectDir = path.join(root, "project");
  const remote = path.join(root, "remote.git");
  // A name of its own per demo: instances, locks, data and the run directory are per project.
  const name = `cspace-demo-${randomBytes(3).toString("hex")}`;
  const files: Record<string, string> = {
    ".cspace.json": `${JSON.stringify({ project: { name }, agent: { preset: "scripted" }, forge: { type: "local", remote: "../remote.git" }, coordinator: { maxParallel: 4 }, ...(workers === undefined ? {} : { workers }) }, null, 2)}\n`,
    ".devcontainer/devcontainer.json": `${JSON.stringify({ name: "cspace demo", image: baseImage }, null, 2)}\n`,
    ".cspace/templates/rebase.md.hbs": REBASE_TEMPLATE,
    "README.md": DEMO_README,
    ...Object.fromEntries(issues.map((issue) => [`.cspace/issues/${String(issue.number)}.md`, issueFile(issue)])),
  };
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(projectDir, name)), { recursive: true });
    await writeFile(path.join(projectDir, name), text);
  }
  const identity = ["-c", "user.name=cspace demo", "-c", "user.email=demo@cspace.invalid"];
  await runGit(["init", "--quiet", "--initial-branch=main"], { cwd: projectDir });
  await runGit(["add", "--all"], { cwd: projectDir });
  await runGit([...identity, "commit", "--quiet", "-m", "The demo project"], { cwd: projectDir });
  await runGit(["clone", "--quiet", "--bare", projectDir, remote], { cwd: root });
  return { dir: root, projectDir, remote, projectId: projectId(name, projectDir) };
}

async function present(target: string): Promise<boolean> {
  return stat(target).then(
    () => true,
    () => false,
  );
}
