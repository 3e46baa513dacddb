import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface FixtureRepo {
  /** The project directory: a real git repository with one commit on main. */
  readonly dir: string;
  readonly projectName: string;
  /** A private CSPACE_DATA_DIR and CSPACE_RUN_DIR for this project. */
  readonly env: NodeJS.ProcessEnv;
  readonly dataDir: string;
  readonly runDir: string;
  /** The commit main is at. */
  readonly head: string;
  remove(): Promise<void>;
}

export interface FixtureOptions {
  readonly projectName: string;
  /** The devcontainer.json, as an object (written as JSON) or as JSONC text. */
  readonly devcontainer: unknown;
  /** Extra files, relative to the repository (a Dockerfile, say). */
  readonly files?: Readonly<Record<string, string>>;
  readonly config?: Readonly<Record<string, unknown>>;
}

/** A Dockerfile on the local base image adding a non-root user 1000, labelled for this test run's teardown. */
export function nonRootDockerfile(runId: string): string {
  return [
    "FROM cspace-base:bookworm",
    "RUN useradd --create-home --uid 1000 --shell /bin/sh dev && mkdir -p /workspaces && chown 1000:1000 /workspaces",
    `LABEL dev.cspace.test=${runId}`,
    "",
  ].join("\n");
}

export async function makeFixtureRepo(options: FixtureOptions): Promise<FixtureRepo> {
  const root = await mkdtemp(path.join(os.tmpdir(), "cspace-fixture-"));
  const dir = path.join(root, "repo");
  const dataDir = path.join(root, "data");
  const runDir = path.join(root, "run");
  await mkdir(path.join(dir, ".devcontainer"), { recursive: true });
  await writeFile(path.join(dir, ".cspace.json"), `${JSON.stringify({ project: { name: options.projectName }, ...options.config }, null, 2)}\n`);
  const devcontainer = typeof options.devcontainer === "string" ? options.devcontainer : JSON.stringify(options.devcontainer, null, 2);
  await writeFile(path.join(dir, ".devcontainer", "devcontainer.json"), `${devcontainer}\n`);
  for (const [name, text] of Object.entries(options.files ?? {})) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  await writeFile(path.join(dir, "README.md"), "# fixture\n");
  const git = (...args: string[]): string => execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();
  git("init", "--quiet", "--initial-branch=main");
  git("config", "user.name", "Fixture");
  git("config", "user.email", "fixture@example.invalid");
  git("add", "-A");
  git("commit", "--quiet", "-m", "fixture");
  const head = git("rev-parse", "HEAD");
  return {
    dir,
    projectName: options.projectName,
    env: { CSPACE_DATA_DIR: dataDir, CSPACE_RUN_DIR: runDir },
    dataDir,
    runDir,
    head,
    remove: () => rm(root, { recursive: true, force: true }),
  };
}
