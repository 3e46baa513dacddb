import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { FIXTURES } from "./drive.ts";

export interface TestWorkspace {
  /** A git repository with one commit on `main`, the agent's working directory. */
  readonly cwd: string;
  /** Where the stand-ins record their invocations. */
  readonly log: string;
  /** The environment for agents: the stand-ins first on PATH, a known git identity. */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly root: string;
  git(...args: string[]): string;
  remove(): void;
}

export function testWorkspace(): TestWorkspace {
  const root = mkdtempSync(path.join(tmpdir(), "cspace-agents-"));
  const cwd = path.join(root, "workspace");
  const env = {
    ...process.env,
    PATH: `${FIXTURES}${path.delimiter}${process.env.PATH ?? ""}`,
    CSPACE_STANDIN_LOG: path.join(root, "standin.log"),
    GIT_AUTHOR_NAME: "test",
    GIT_AUTHOR_EMAIL: "test@example.invalid",
    GIT_COMMITTER_NAME: "test",
    GIT_COMMITTER_EMAIL: "test@example.invalid",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: path.join(root, "gitconfig"),
  };
  const git = (...args: string[]) => execFileSync("git", args, { cwd, env, encoding: "utf8" }).trim();
  execFileSync("git", ["init", "--quiet", "--initial-branch=main", cwd], { env });
  git("commit", "--quiet", "--allow-empty", "-m", "start");
  return { cwd, log: env.CSPACE_STANDIN_LOG, env, root, git, remove: () => { rmSync(root, { recursive: true, force: true }); } };
}
