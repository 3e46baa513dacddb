import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";

/**
 * The git the scripted agent needs, run in its workspace as a real agent
 * would run it. Errors carry git's own stderr: they end up in the agent's
 * events, where someone debugging a test will look.
 */

export interface GitResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export class Git {
  private readonly cwd: string;
  private readonly env: Readonly<Record<string, string | undefined>>;

  constructor(cwd: string, env: Readonly<Record<string, string | undefined>>) {
    this.cwd = cwd;
    this.env = env;
  }

  /** Runs git; resolves with its exit code whatever it is. */
  run(args: readonly string[]): Promise<GitResult> {
    return new Promise((resolve) => {
      execFile(
        "git",
        [...args],
        // GIT_EDITOR=true: `rebase --continue` must not wait for an editor nobody sees.
        { cwd: this.cwd, env: { ...this.env, GIT_EDITOR: "true" }, maxBuffer: 64 * 1024 * 1024 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  /** Runs git and fails with its stderr when it fails. */
  async ok(args: readonly string[]): Promise<string> {
    const result = await this.run(args);
    if (result.code !== 0) throw new Error(`git ${args.join(" ")} failed (${result.code}): ${(result.stderr || result.stdout).trim()}`);
    return result.stdout;
  }

  /** `-c user.name=… -c user.email=…` when no identity is configured, so a bare test repository can commit. */
  async identityArgs(): Promise<string[]> {
    const configured = await this.run(["config", "--get", "user.email"]);
    if (configured.code === 0 || this.env.GIT_COMMITTER_EMAIL !== undefined) return [];
    return ["-c", "user.name=cspace scripted agent", "-c", "user.email=scripted-agent@cspace.invalid"];
  }

  /** Whether a rebase is stopped in this workspace. */
  async rebaseInProgress(): Promise<boolean> {
    for (const name of ["rebase-merge", "rebase-apply"]) {
      const where = (await this.ok(["rev-parse", "--git-path", name])).trim();
      if (existsSync(path.resolve(this.cwd, where))) return true;
    }
    return false;
  }
}
