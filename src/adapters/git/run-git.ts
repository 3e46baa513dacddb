import { execFile, spawn, type ChildProcess, type ExecFileException, type StdioOptions } from "node:child_process";
import { existsSync } from "node:fs";
import { ExternalError } from "../../core/errors.ts";

/**
 * The one way cspace runs git: node:child_process rather than execa (whose
 * ~110 modules cost more to load than most of these calls take to run), one
 * environment policy, hooks off, a timeout, cancellation, and failures that
 * name the command, the directory and what git said.
 */

export interface GitRunOptions {
  /** Where git runs (and, without --git-dir/-C in `args`, where it finds the repository); the process's by default. */
  readonly cwd?: string;
  /** Exit codes returned as results (default: 0); any other throws an ExternalError. "any": the caller reads the code. */
  readonly okCodes?: readonly number[] | "any";
  /** Written to git's stdin; without it stdin is empty. */
  readonly input?: string;
  /** Aborting kills git and rejects with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** Killed and reported as timed out after this long. */
  readonly timeoutMs?: number;
  /** Set on top of the cleaned environment (an identity for commits cspace writes). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface GitResult {
  /** Always a number: a git that did not exit by itself is an error, never a result. */
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

const DEFAULT_TIMEOUT_MS = 60_000;
/** for-each-ref or merge-tree on a large repository print megabytes; past this git is killed and it is an error. */
const MAX_BUFFER = 256 * 1024 * 1024;

/**
 * Variables that point git at another repository, object store or index
 * than the directory cspace names. Git sets them for hooks and for commands
 * run by `git rebase -x` or aliases, and cspace may run there; with GIT_DIR
 * set, `git -C <dir>` answers about GIT_DIR, not <dir>. GIT_QUARANTINE_PATH
 * (pre-receive hooks) would refuse ref updates outright.
 */
const REDIRECTING = new Set([
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_SHALLOW_FILE",
  "GIT_QUARANTINE_PATH",
  "GIT_REPLACE_REF_BASE",
  "GIT_GRAFT_FILE",
  "GIT_PREFIX",
  "GIT_INTERNAL_SUPER_PREFIX",
]);

/**
 * Config injected through the environment: a parent `git -c k=v` passes its
 * settings to everything it runs (GIT_CONFIG_PARAMETERS), and
 * GIT_CONFIG_COUNT/KEY_n/VALUE_n do the same. Either could set core.worktree,
 * core.bare or hooks for cspace's calls; cspace's git reads the repository's
 * and the user's config files only.
 *
 * Kept on purpose: GIT_CEILING_DIRECTORIES and GIT_DISCOVERY_ACROSS_FILESYSTEM
 * (the user's own limits on repository discovery, which git never sets for
 * its children: with them `repositoryKind` answers as the user's git does),
 * GIT_CONFIG_GLOBAL/SYSTEM/NOSYSTEM (where the user keeps config), and
 * GIT_EXEC_PATH and GIT_TRACE* (how git is installed and debugged).
 */
function isInjectedConfig(key: string): boolean {
  return key === "GIT_CONFIG_PARAMETERS" || key === "GIT_CONFIG_COUNT" || /^GIT_CONFIG_(KEY|VALUE)_\d+$/.test(key);
}

/** The environment every git call gets: the caller's, minus redirection, plus `extra`. */
export function gitEnvironment(base: NodeJS.ProcessEnv, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(base)) {
    if (value !== undefined && !REDIRECTING.has(key) && !isInjectedConfig(key)) env[key] = value;
  }
  // Messages are parsed in places (merge-tree's "unrelated histories") and quoted in errors: English, whatever the locale.
  // Paths and contents are bytes to git, so only messages change.
  env.LC_ALL = "C";
  delete env.LANGUAGE;
  // stdin is empty, but git prompts on the terminal itself: it must fail instead of waiting for someone.
  env.GIT_TERMINAL_PROMPT = "0";
  return { ...env, ...extra };
}

/**
 * Runs `git <args>` with hooks off: every call cspace makes is mechanical
 * (a fetch into its store, a checkout it made, a forge's ref update), and a
 * user's hook must neither run on those nor change their outcome.
 */
export function runGit(args: readonly string[], options: GitRunOptions): Promise<GitResult> {
  const okCodes = options.okCodes ?? [0];
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const command = `git ${args.join(" ")}`;
  const cwd = options.cwd ?? process.cwd();
  const signal = options.signal;
  return new Promise<GitResult>((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(abortReason(signal));
      return;
    }
    const child = execFile(
      "git",
      ["-c", "core.hooksPath=/dev/null", ...args],
      {
        cwd,
        env: gitEnvironment(process.env, options.env),
        encoding: "utf8",
        maxBuffer: MAX_BUFFER,
        timeout: timeoutMs,
        ...(signal === undefined ? {} : { signal }),
      },
      (error: ExecFileException | null, stdout: string, stderr: string) => {
        if (signal?.aborted === true) {
          reject(abortReason(signal));
          return;
        }
        const failure = error === null ? null : describeFailure(error, cwd, timeoutMs);
        if (failure !== null) {
          reject(new ExternalError(`${shorten(command)} failed in ${cwd}: ${failure.message}`, { cause: error, hint: failure.hint }));
          return;
        }
        const exitCode = typeof error?.code === "number" ? error.code : 0;
        if (okCodes !== "any" && !okCodes.includes(exitCode)) {
          const said = stderr.trim() || stdout.trim() || "(git printed nothing)";
          reject(new ExternalError(`${shorten(command)} failed in ${cwd} (exit ${String(exitCode)}): ${said}`, { cause: error }));
          return;
        }
        resolve({ exitCode, stdout, stderr });
      },
    );
    // An EPIPE when git exits before reading all its input is reported by the exit callback above.
    child.stdin?.on("error", () => undefined);
    child.stdin?.end(options.input ?? "");
  });
}

/**
 * Starts `git <args>` with the same environment policy and hooks off as
 * runGit, its stdio as `stdio` says: for a caller that streams git's input
 * and output itself (the workspace transport joins git's pack protocol to a
 * command in a container). The caller owns the process: it waits for it,
 * and kills it when it gives up.
 */
export function spawnGit(args: readonly string[], options: { readonly cwd: string; readonly env?: Readonly<Record<string, string>>; readonly stdio: StdioOptions }): ChildProcess {
  return spawn("git", ["-c", "core.hooksPath=/dev/null", ...args], { cwd: options.cwd, env: gitEnvironment(process.env, options.env), stdio: options.stdio });
}

/**
 * Why git did not give an exit code of its own, or null when it did.
 * `error.code` is a number for an exit, a string (ENOENT, …) when git could
 * not be started or its output overflowed, and null when a signal ended it.
 */
function describeFailure(error: ExecFileException, cwd: string, timeoutMs: number): { message: string; hint?: string } | null {
  if (typeof error.code === "number") return null;
  if (error.code === "ENOENT") {
    // spawn says ENOENT both for a missing program and for a missing working directory.
    if (!existsSync(cwd)) return { message: "the directory does not exist" };
    return { message: "git is not installed (or not on PATH)", hint: "Install git (2.38 or newer) and make sure it is on PATH." };
  }
  if (error.code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER") return { message: `git printed more than ${String(MAX_BUFFER / 1024 / 1024)} MiB, so it was stopped` };
  if (typeof error.code === "string") return { message: `${error.code}: ${error.message}` };
  if (error.killed === true) return { message: `git did not finish within ${formatSeconds(timeoutMs)} and was stopped (${error.signal ?? "killed"})` };
  return { message: `git was killed by ${error.signal ?? "a signal"} before it finished` };
}

function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new Error(`aborted: ${String(reason)}`);
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${String(ms / 1000)} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Commands carry paths and refs; a message stays readable however many. */
function shorten(command: string): string {
  return command.length > 300 ? `${command.slice(0, 300)}…` : command;
}
