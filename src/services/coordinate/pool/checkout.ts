import type { ContainerDetails } from "../../../core/instances/ports.ts";
import { accessTo, workerOf, type PoolContext } from "./context.ts";

export type CheckoutOutcome = { readonly ok: true } | { readonly ok: false; readonly error: string };

/**
 * Brings the instance's checkout to `sha` on `branch`, as the container
 * user: the host fetches the forge's branch into the shared store first
 * (every checkout's read-only `origin`), then the checkout fetches it from
 * there and moves its branch. Nothing is done when the checkout is there
 * already, so an agent's own commits are never touched needlessly.
 */
export async function bringCheckoutTo(
  context: PoolContext,
  instance: string,
  container: ContainerDetails,
  branch: string,
  sha: string,
  options: { readonly discard?: boolean } = {},
): Promise<CheckoutOutcome> {
  const { runtime, remote } = await workerOf(context, instance);
  const { access } = await accessTo(context, instance, container);
  const head = await runtime.exec(container.id, ["git", "rev-parse", "HEAD"], access);
  const current = await runtime.exec(container.id, ["git", "symbolic-ref", "--quiet", "--short", "HEAD"], access);
  if (options.discard !== true && head.exitCode === 0 && head.stdout.trim() === sha && current.stdout.trim() === branch) return { ok: true };
  const branches = await context.project.ports.branches();
  await branches.fetch([branch]);
  // A remote worker's origin is its host's mirror: the commit goes there first.
  if (remote !== null) await context.remote.pushRefs(remote, [{ name: branch, sha }]);
  // `discard` (the launch after the operator's reset): what a stopped agent left uncommitted goes too, tracked or not
  // (ignored files, such as installed dependencies, stay), so none of the discarded work leaks into the fresh start.
  const checkout = options.discard === true ? 'git checkout --quiet -f -B "$1" "$2" && git clean -fdq' : 'git checkout --quiet -B "$1" "$2"';
  // The sha and branch are the coordinator's own (a 40-hex sha, an `issue-N` name): no quoting is needed, but they are passed as arguments anyway.
  const moved = await runtime.exec(container.id, ["/bin/sh", "-c", `git fetch --quiet origin "$1" && ${checkout}`, "checkout", branch, sha], access);
  if (moved.exitCode === 0) return { ok: true };
  return { ok: false, error: `the checkout of ${instance} could not be brought to ${branch} at ${sha.slice(0, 12)}: ${tail(`${moved.stdout}\n${moved.stderr}`)}` };
}

/**
 * Makes sure the checkout has the commit the supervisor counts the agent's
 * commits from (`rev-list <baseSha>..HEAD`). A branch that already existed
 * is taken as it is, but the base sha is the forge's current one, which a
 * checkout warmed earlier may never have fetched: counting from it failed,
 * and every attempt was judged "no commits". The host fetches the base into
 * the store (which the checkout borrows its objects from, and fetches from
 * as `origin`), then the checkout fetches it; the sha must then be there.
 */
export async function bringBaseInto(context: PoolContext, instance: string, container: ContainerDetails, base: string, baseSha: string): Promise<CheckoutOutcome> {
  const { runtime, remote } = await workerOf(context, instance);
  const { access } = await accessTo(context, instance, container);
  const has = () => runtime.exec(container.id, ["git", "cat-file", "-e", `${baseSha}^{commit}`], access);
  if ((await has()).exitCode === 0) return { ok: true };
  const branches = await context.project.ports.branches();
  await branches.fetch([base]);
  if (remote !== null) await context.remote.pushRefs(remote, [{ name: base, sha: baseSha }]);
  const fetched = await runtime.exec(container.id, ["git", "fetch", "--quiet", "origin", base], access);
  if ((await has()).exitCode === 0) return { ok: true };
  return {
    ok: false,
    error: `the checkout of ${instance} does not have ${base}'s commit ${baseSha.slice(0, 12)}, which the agent's commits are counted from, even after fetching ${base}: ${tail(`${fetched.stdout}\n${fetched.stderr}`) || "(git printed nothing)"}`,
  };
}

export function tail(text: string, lines = 20): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}
