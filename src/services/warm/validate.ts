import { RUN_DIR_IN_CONTAINER } from "../../core/devcontainer/create-options.ts";
import type { ContainerRuntime, ExecOptions } from "../../core/instances/ports.ts";
import { POST_CREATE_MARKER, StepFailure, tailOf } from "./steps.ts";

export interface Expectation {
  readonly commit: string;
  /** A fresh checkout must be exactly at the commit; a used one may have moved on from it. */
  readonly exact: boolean;
}

/**
 * What makes an instance ready; throws a StepFailure naming the first check
 * that does not hold. git is checked as the agent will use it: as the
 * container user, reading objects (the commit and its tree, through `git
 * status`), not only resolving a ref, which works even where objects do not,
 * and reaching `origin` (the store), which agents fetch new bases from.
 */
export async function validate(runtime: ContainerRuntime, id: string, access: ExecOptions, expected: Expectation): Promise<void> {
  const info = await runtime.inspect(id);
  if (info?.state !== "running") throw new StepFailure(`the container is ${info?.state ?? "gone"}, not running`);
  const run = (argv: readonly string[]) => runtime.exec(id, argv, access);
  const [head, ancestor, writable, node, marker] = await Promise.all([
    run(["/bin/sh", "-c", "git log -1 --format=%H && git status --porcelain >/dev/null && git ls-remote origin HEAD >/dev/null"]),
    expected.exact ? Promise.resolve(null) : run(["git", "merge-base", "--is-ancestor", expected.commit, "HEAD"]),
    run(["/bin/sh", "-c", `probe=${RUN_DIR_IN_CONTAINER}/.cspace-probe-$$ && : > "$probe" && rm -f "$probe"`]),
    run(["node", "--version"]),
    runtime.exec(id, ["test", "-f", POST_CREATE_MARKER], { user: "0" }),
  ]);
  if (head.exitCode !== 0) throw new StepFailure("git cannot read the workspace's commits or reach its origin as the container user", tailOf(head.stdout + head.stderr));
  const at = head.stdout.trim().split("\n")[0] ?? "";
  if (expected.exact ? at !== expected.commit : ancestor?.exitCode !== 0) {
    throw new StepFailure(`the workspace is at ${at.slice(0, 12)}, expected ${expected.exact ? "" : "a descendant of "}${expected.commit.slice(0, 12)}`);
  }
  if (writable.exitCode !== 0) throw new StepFailure(`${RUN_DIR_IN_CONTAINER} is not writable by the container user`, tailOf(writable.stderr));
  const major = Number(/^v(\d+)\./.exec(node.stdout.trim())?.[1] ?? "0");
  if (node.exitCode !== 0 || major < 18) {
    throw new StepFailure(`node 18 or newer is needed in the container for the supervisor; found ${node.exitCode === 0 ? node.stdout.trim() : "none"}`, tailOf(node.stderr));
  }
  if (marker.exitCode !== 0) throw new StepFailure("postCreateCommand has not completed in this container");
}
