import type { VerifyOutcome, VerifyRequest } from "../../../core/coordinator-runtime/ports.ts";
import { bringCheckoutTo, tail } from "./checkout.ts";
import { accessTo, containerOf, type PoolContext } from "./context.ts";

/**
 * Runs the verify commands in the worker's container, as its user, in the
 * workspace folder, on the checkout at `headSha` (brought there first when
 * it is elsewhere: a restack moves the forge's branch, not the checkout).
 */
export async function verifyIn(context: PoolContext, request: VerifyRequest): Promise<VerifyOutcome> {
  const container = await containerOf(context, request.instance);
  if (container?.state !== "running") {
    return { ok: false, command: request.commands[0] ?? "verify", exitCode: null, outputTail: `instance ${request.instance} is ${container === null ? "gone" : `not running (${container.state})`}` };
  }
  // The instance is named after its branch (`issue-N`), as the coordinator makes both.
  const branch = request.instance;
  const moved = await bringCheckoutTo(context, request.instance, container, branch, request.headSha);
  if (!moved.ok) return { ok: false, command: `git checkout -B ${branch} ${request.headSha}`, exitCode: null, outputTail: moved.error };
  const runtime = await context.project.ports.runtime();
  const { access } = await accessTo(context, request.instance, container);
  for (const command of request.commands) {
    const result = await runtime.exec(container.id, ["/bin/sh", "-c", command], access);
    if (result.exitCode !== 0) return { ok: false, command, exitCode: result.exitCode, outputTail: tail(`${result.stdout}\n${result.stderr}`, 40) };
  }
  return { ok: true };
}
