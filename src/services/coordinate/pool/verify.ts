import { randomUUID } from "node:crypto";
import type { VerifyOutcome, VerifyRequest } from "../../../core/coordinator-runtime/ports.ts";
import type { ContainerRuntime, ExecOptions } from "../../../core/instances/ports.ts";
import { bringCheckoutTo, tail } from "./checkout.ts";
import { accessTo, workerOf, type PoolContext } from "./context.ts";

/**
 * Runs the verify commands in the worker's container, as its user, in the
 * workspace folder, on the checkout at `headSha` (brought there first when
 * it is elsewhere: a restack moves the forge's branch, not the checkout; or
 * detached there, for a commit the host made: the tree that would land).
 * When the request's signal fires (verify.timeout, or a skip), the command
 * running is ended: leaving the exec's stream is not enough, its processes
 * would go on in the container, so every process carrying this run's mark in
 * its environment is killed.
 */
export async function verifyIn(context: PoolContext, request: VerifyRequest): Promise<VerifyOutcome> {
  const { runtime, container, remote } = await workerOf(context, request.instance);
  if (container?.state !== "running") {
    return { ok: false, command: request.commands[0] ?? "verify", exitCode: null, outputTail: `instance ${request.instance} is ${container === null ? "gone" : `not running (${container.state})`}` };
  }
  // The instance is named after its branch (`issue-N`), as the coordinator makes both.
  const branch = request.instance;
  const { access } = await accessTo(context, request.instance, container);
  if (request.detached === true) {
    // A commit the host wrote into the store, which the checkout borrows its objects from: no fetch is needed.
    // A remote checkout borrows its host's mirror's objects instead: the commit is pushed there first, under a name of cspace's own.
    if (remote !== null) await context.remote.pushRefs(remote, [{ name: `cspace/landing/${request.instance}`, sha: request.headSha }], request.signal);
    const detached = await runtime.exec(container.id, ["git", "checkout", "--quiet", "--detach", request.headSha], access);
    if (detached.exitCode !== 0) {
      return { ok: false, command: `git checkout --detach ${request.headSha}`, exitCode: null, outputTail: tail(`${detached.stdout}\n${detached.stderr}`) };
    }
  } else {
    const moved = await bringCheckoutTo(context, request.instance, container, branch, request.headSha);
    if (!moved.ok) return { ok: false, command: `git checkout -B ${branch} ${request.headSha}`, exitCode: null, outputTail: moved.error };
  }
  for (const command of request.commands) {
    const mark = randomUUID();
    try {
      const result = await runtime.exec(container.id, ["/bin/sh", "-c", command], { ...access, env: { ...access.env, [MARK]: mark }, signal: request.signal });
      if (result.exitCode !== 0) return { ok: false, command, exitCode: result.exitCode, outputTail: tail(`${result.stdout}\n${result.stderr}`, 40) };
    } catch (error) {
      const signal = request.signal;
      if (signal?.aborted !== true) throw error;
      const left = await killMarked(runtime, container.id, access, mark);
      const why = signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
      return { ok: false, command, exitCode: null, outputTail: left === null ? why : `${why} (${left})` };
    }
  }
  return { ok: true };
}

/** The environment variable that marks every process of one verify command (children inherit it). */
const MARK = "CSPACE_VERIFY_RUN";

/**
 * Kills (SIGKILL) every process whose environment holds `MARK=<mark>`, twice
 * over so a child forked during the first pass goes too. Only `sh`, `tr` and
 * `grep` are needed, which every image with a shell has. Answers null, or why
 * the processes may still run.
 */
async function killMarked(runtime: ContainerRuntime, containerId: string, access: ExecOptions, mark: string): Promise<string | null> {
  const script = [
    'for pass in 1 2; do',
    '  for p in /proc/[0-9]*; do',
    '    if tr "\\000" "\\n" <"$p/environ" 2>/dev/null | grep -qx "$1=$2"; then kill -KILL "${p#/proc/}" 2>/dev/null; fi',
    '  done',
    'done',
  ].join("\n");
  try {
    const killed = await runtime.exec(containerId, ["/bin/sh", "-c", script, "kill-verify", MARK, mark], { user: access.user, workdir: "/" });
    return killed.exitCode === 0 ? null : `its processes may still run: the kill exited ${String(killed.exitCode)}`;
  } catch (error) {
    return `its processes may still run: ${error instanceof Error ? error.message : String(error)}`;
  }
}
