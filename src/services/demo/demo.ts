import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { runGit } from "../../adapters/git/run-git.ts";
import type { ProgressListener } from "../../core/coordinator-runtime/progress.ts";
import { baseImage } from "../../core/doctor/checks.ts";
import { UserError } from "../../core/errors.ts";
import { coordinate, type CoordinateResult } from "../coordinate/coordinate.ts";
import { DEMO_ISSUES, DEMO_README, issueFile, REBASE_TEMPLATE } from "./scenario.ts";

export interface DemoOptions {
  readonly env: NodeJS.ProcessEnv;
  /** Where to make the project (empty or missing); a new temporary directory otherwise. */
  readonly dir?: string | undefined;
  /** Keep the instances after the run (removed by default: the project is throwaway). */
  readonly keep?: boolean | undefined;
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
}

export interface DemoResult extends DemoProject {
  readonly run: CoordinateResult;
}

/**
 * `cspace demo`: generates a project on the local forge whose agents are
 * scripted, then runs `cspace coordinate` on every issue in real
 * containers. Its data directory (object store, event log) is inside the
 * demo directory too, so removing that directory removes the demo.
 */
export async function demo(options: DemoOptions): Promise<DemoResult> {
  const created = await makeDemoProject(options.dir);
  options.onCreated?.(created);
  const env = { ...options.env, CSPACE_DATA_DIR: options.env.CSPACE_DATA_DIR ?? path.join(created.dir, "data") };
  const run = await coordinate({
    cwd: created.projectDir,
    env,
    numbers: DEMO_ISSUES.map((issue) => issue.number),
    down: options.keep !== true,
    onProgress: options.onProgress,
    signal: options.signal,
    onRunOpened: (runId) => options.onRunOpened?.({ runId, cwd: created.projectDir, env }),
  });
  return { ...created, run };
}

export async function makeDemoProject(dir: string | undefined): Promise<DemoProject> {
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
  const files: Record<string, string> = {
    // A name of its own per demo: instances, locks and the run directory are per project.
    ".cspace.json": `${JSON.stringify({ project: { name: `cspace-demo-${randomBytes(3).toString("hex")}` }, agent: { preset: "scripted" }, forge: { type: "local", remote: "../remote.git" }, coordinator: { maxParallel: 4 } }, null, 2)}\n`,
    ".devcontainer/devcontainer.json": `${JSON.stringify({ name: "cspace demo", image: baseImage }, null, 2)}\n`,
    ".cspace/templates/rebase.md.hbs": REBASE_TEMPLATE,
    "README.md": DEMO_README,
    ...Object.fromEntries(DEMO_ISSUES.map((issue) => [`.cspace/issues/${String(issue.number)}.md`, issueFile(issue)])),
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
  return { dir: root, projectDir, remote };
}
