import path from "node:path";
import { entryKind } from "../adapters/config/config-files.ts";
import { cloneBare, workTreeState } from "../adapters/git/bare-clone.ts";
import { repositoryKind } from "../adapters/git/git-version.ts";
import { UserError } from "../core/errors.ts";

export interface LocalRemote {
  /** Absolute path of the bare repository. */
  readonly path: string;
  /** As written in forge.remote: relative to the project directory, "/" separators. */
  readonly relative: string;
  /** False when a bare repository was already there and is used as it is. */
  readonly created: boolean;
  /** The top of the user's repository, and its current branch (null on a detached HEAD): what is pushed to it. */
  readonly top: string;
  readonly branch: string | null;
}

/**
 * `cspace init --local-forge`: a bare clone of the project's repository, at
 * `remote` or beside the repository as `<name>.git`. Nothing is ever overwritten:
 * a bare repository already there is used as it is; anything else there is refused.
 */
export async function createLocalRemote(directory: string, name: string, remote: string | undefined): Promise<LocalRemote> {
  const state = await workTreeState(directory);
  switch (state.kind) {
    case "none":
      throw new UserError(`--local-forge: ${directory} is not in a git repository, so there is nothing to make a bare repository from`, {
        hint: "Run `git init` and commit your project first, or run cspace init without --local-forge (the local forge then reads issues only).",
      });
    case "no-commits":
      throw new UserError(`--local-forge: the git repository at ${state.top} has no commits yet, so a bare repository made from it would have no branch`, {
        hint: 'Commit first, e.g. `git add -A && git commit -m "Initial commit"`, then run cspace init --local-forge again.',
      });
    case "ready":
      break;
  }
  // Beside the repository by default (the project's parent when the project is the repository's top).
  const target = remote === undefined ? path.join(path.dirname(state.top), `${name}.git`) : path.resolve(directory, remote);
  const relative = (path.relative(directory, target) || ".").split(path.sep).join("/");
  if (isInside(target, state.top)) {
    throw new UserError(`--remote ${relative}: the bare repository would be inside the repository it is cloned from (${state.top})`, {
      hint: `Put it outside, e.g. --remote ${path.relative(directory, path.join(path.dirname(state.top), `${name}.git`)).split(path.sep).join("/")}`,
    });
  }
  const kind = await entryKind(target);
  if (kind !== "missing") {
    if (kind === "directory" && (await repositoryKind(target)) === "bare") return { path: target, relative, created: false, top: state.top, branch: state.branch };
    throw new UserError(`${relative} already exists and is not a bare git repository; cspace init never overwrites anything`, {
      hint: "Pass --remote <path> naming a path that does not exist yet, or move what is there.",
    });
  }
  await cloneBare(state.top, target);
  return { path: target, relative, created: true, top: state.top, branch: state.branch };
}

function isInside(child: string, parent: string): boolean {
  const relative = path.relative(parent, child);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}
