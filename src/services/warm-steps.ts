import { shareRunDir } from "../adapters/instance-files.ts";
import { RUN_DIR_IN_CONTAINER } from "../core/devcontainer/create-options.ts";
import type { LifecycleStep } from "../core/devcontainer/spec.ts";
import type { ExecOptions, Workspace } from "../core/instances/ports.ts";
import type { ProjectContext } from "./instances.ts";

/**
 * Lives in the container's own filesystem, so it goes with the container:
 * postCreateCommand runs once per container, and a recreated one runs it again.
 */
export const POST_CREATE_MARKER = "/var/lib/cspace/post-create.done";

/** A step that failed; `output` is the tail of what the command printed. */
export class StepFailure extends Error {
  override readonly name = "StepFailure";
  readonly output: string;

  constructor(message: string, output = "") {
    super(message);
    this.output = output;
  }
}

const TAIL_LINES = 20;

export function tailOf(text: string): string {
  return text.trimEnd().split("\n").slice(-TAIL_LINES).join("\n");
}

/** Runs a lifecycle step: its commands in parallel, each as a shell line or an argument list; the first failure fails it. */
export async function runLifecycle(project: ProjectContext, id: string, key: string, step: LifecycleStep | null, access: ExecOptions): Promise<void> {
  if (step === null) return;
  const outcomes = await Promise.all(
    step.parallel.map(async (command) => {
      const argv = typeof command.command === "string" ? ["/bin/sh", "-c", command.command] : command.command;
      return { command, outcome: await project.runtime.exec(id, argv, access) };
    }),
  );
  const failed = outcomes.find((o) => o.outcome.exitCode !== 0);
  if (failed !== undefined) {
    const name = failed.command.name === key ? key : `${key} "${failed.command.name}"`;
    const output = tailOf(`${failed.outcome.stdout}${failed.outcome.stderr}`);
    throw new StepFailure(`${name} failed with exit code ${failed.outcome.exitCode}`, output);
  }
}

export async function markPostCreateDone(project: ProjectContext, id: string): Promise<void> {
  // As root: the marker's directory is outside anything the container user may own.
  const marked = await project.runtime.exec(id, ["/bin/sh", "-c", `mkdir -p /var/lib/cspace && date -u > ${POST_CREATE_MARKER}`], { user: "0" });
  if (marked.exitCode !== 0) throw new StepFailure("cannot record that postCreateCommand ran", tailOf(marked.stderr));
}

/** The uid and gid commands run as, from inside (the user may only be named in the image's /etc/passwd). */
export async function userIds(project: ProjectContext, id: string, user: string | undefined): Promise<{ uid: number; gid: number }> {
  const result = await project.runtime.exec(id, ["/bin/sh", "-c", "id -u; id -g"], { user });
  const [uid, gid] = result.stdout.trim().split("\n").map(Number);
  if (result.exitCode !== 0 || uid === undefined || gid === undefined || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new StepFailure(`cannot find the ids of user ${user ?? "(image default)"} in the container`, tailOf(result.stderr));
  }
  return { uid, gid };
}

export async function shareWithUser(project: ProjectContext, workspace: Workspace, ids: { uid: number; gid: number }): Promise<void> {
  await project.workspaces.handOver(workspace, ids.uid, ids.gid);
  await shareRunDir(project.runDir, ids.uid, ids.gid);
}

export interface Expectation {
  readonly commit: string;
  /** A fresh checkout must be exactly at the commit; a used one may have moved on from it. */
  readonly exact: boolean;
}

/** What makes an instance ready; throws a StepFailure naming the first check that does not hold. */
export async function validate(project: ProjectContext, id: string, access: ExecOptions, expected: Expectation): Promise<void> {
  const info = await project.runtime.inspect(id);
  if (info?.state !== "running") throw new StepFailure(`the container is ${info?.state ?? "gone"}, not running`);
  const run = (argv: readonly string[]) => project.runtime.exec(id, argv, access);
  const [head, ancestor, writable, node, marker] = await Promise.all([
    run(["git", "rev-parse", "HEAD"]),
    expected.exact ? Promise.resolve(null) : run(["git", "merge-base", "--is-ancestor", expected.commit, "HEAD"]),
    run(["/bin/sh", "-c", `probe=${RUN_DIR_IN_CONTAINER}/.cspace-probe-$$ && : > "$probe" && rm -f "$probe"`]),
    run(["node", "--version"]),
    project.runtime.exec(id, ["test", "-f", POST_CREATE_MARKER], { user: "0" }),
  ]);
  if (head.exitCode !== 0) throw new StepFailure("git does not work in the workspace", tailOf(head.stdout + head.stderr));
  const at = head.stdout.trim();
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
