import type { LifecycleStep } from "../../core/devcontainer/spec.ts";
import { STORE_IN_CONTAINER, type ContainerRuntime, type ExecOptions } from "../../core/instances/ports.ts";

/**
 * Lives in the container's own filesystem, so it goes with the container:
 * postCreateCommand runs once per container, and a recreated one runs it again.
 */
export const POST_CREATE_MARKER = "/var/lib/cspace/post-create.done";

/** A step that failed; `output` is the tail of what the command printed. */
export class StepFailure extends Error {
  override readonly name: string = "StepFailure";
  readonly output: string;
  /** Whether trying again from scratch may help: a command that ran out of time would only do it again. */
  readonly retryable: boolean;

  constructor(message: string, output = "", options: { retryable?: boolean } = {}) {
    super(message);
    this.output = output;
    this.retryable = options.retryable ?? true;
  }
}

const TAIL_LINES = 20;

export function tailOf(text: string): string {
  return text.trimEnd().split("\n").slice(-TAIL_LINES).join("\n");
}

export interface LifecycleRun {
  readonly key: "postCreateCommand" | "postStartCommand";
  readonly step: LifecycleStep | null;
  readonly access: ExecOptions;
  /** container.lifecycleTimeout, in milliseconds, and as the user wrote it (for the message). */
  readonly timeout: { readonly ms: number; readonly text: string };
}

/**
 * Runs a lifecycle step: its commands in parallel, each as a shell line or an
 * argument list; the first failure fails it. A step still running when the
 * timeout ends fails without a retry; the caller removes the container, which
 * ends the command inside (an exec cannot be killed through the Engine API).
 */
export async function runLifecycle(runtime: ContainerRuntime, id: string, run: LifecycleRun): Promise<void> {
  if (run.step === null) return;
  const timer = AbortSignal.timeout(run.timeout.ms);
  const signal = run.access.signal === undefined ? timer : AbortSignal.any([run.access.signal, timer]);
  try {
    const outcomes = await Promise.all(
      run.step.parallel.map(async (command) => {
        const argv = typeof command.command === "string" ? ["/bin/sh", "-c", command.command] : command.command;
        return { command, outcome: await runtime.exec(id, argv, { ...run.access, signal }) };
      }),
    );
    const failed = outcomes.find((o) => o.outcome.exitCode !== 0);
    if (failed !== undefined) {
      const name = failed.command.name === run.key ? run.key : `${run.key} "${failed.command.name}"`;
      const output = tailOf(`${failed.outcome.stdout}${failed.outcome.stderr}`);
      throw new StepFailure(`${name} failed with exit code ${failed.outcome.exitCode}`, output);
    }
  } catch (error) {
    if (timer.aborted && run.access.signal?.aborted !== true) {
      throw new StepFailure(`${run.key} was still running after ${run.timeout.text} (container.lifecycleTimeout); stopped it`, "", { retryable: false });
    }
    throw error;
  }
}

export async function markPostCreateDone(runtime: ContainerRuntime, id: string): Promise<void> {
  // As root: the marker's directory is outside anything the container user may own.
  const marked = await runtime.exec(id, ["/bin/sh", "-c", `mkdir -p /var/lib/cspace && date -u > ${POST_CREATE_MARKER}`], { user: "0" });
  if (marked.exitCode !== 0) throw new StepFailure("cannot record that postCreateCommand ran", tailOf(marked.stderr));
}

/** The uid and gid commands run as, from inside (the user may only be named in the image's /etc/passwd). */
export async function userIds(runtime: ContainerRuntime, id: string, user: string | undefined): Promise<{ uid: number; gid: number }> {
  const result = await runtime.exec(id, ["/bin/sh", "-c", "id -u; id -g"], { user });
  const [uid, gid] = result.stdout.trim().split("\n").map(Number);
  if (result.exitCode !== 0 || uid === undefined || gid === undefined || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new StepFailure(`cannot find the ids of user ${user ?? "(image default)"} in the container`, tailOf(result.stderr));
  }
  return { uid, gid };
}

/**
 * The store is root's, and git refuses to read a repository another user
 * owns ("dubious ownership"), even as a remote to fetch from; only system or
 * global config can say it is safe (not -c, not the checkout's config). So
 * the container's system config names it, once.
 */
export async function trustStore(runtime: ContainerRuntime, id: string): Promise<void> {
  const line = `git config --system --get-all safe.directory | grep -qxF ${STORE_IN_CONTAINER} || git config --system --add safe.directory ${STORE_IN_CONTAINER}`;
  const trusted = await runtime.exec(id, ["/bin/sh", "-c", line], { user: "0" });
  if (trusted.exitCode !== 0) throw new StepFailure(`cannot mark ${STORE_IN_CONTAINER} as a safe git directory in the container`, tailOf(trusted.stdout + trusted.stderr));
}
