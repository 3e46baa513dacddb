import path from "node:path";
import { UserError } from "../../src/core/errors.ts";
import type { Workspace, WorkspaceStore } from "../../src/core/instances/ports.ts";

/**
 * Workspaces as records: branches of a pretend repository (name → commit),
 * checkouts by instance. Nothing touches the disk.
 */
export class FakeWorkspaceStore implements WorkspaceStore {
  readonly branches = new Map<string, string>([["main", "a".repeat(40)]]);
  readonly checkouts = new Map<string, { base: string; commit: string; owner: { uid: number; gid: number } | null }>();
  readonly calls: string[] = [];
  defaultBranchName = "main";
  readonly #root: string;

  constructor(root = "/fake/workspaces") {
    this.#root = root;
  }

  pathOf(instance: string): string {
    return path.join(this.#root, instance);
  }

  get storePath(): string {
    return path.join(this.#root, "objects.git");
  }

  checkoutConfig(base: string): Promise<Readonly<Record<string, string>>> {
    return Promise.resolve({ "cspace.base": base });
  }

  defaultBranch(): Promise<string> {
    return Promise.resolve(this.defaultBranchName);
  }

  resolveBase(base: string): Promise<string> {
    this.calls.push(`resolve ${base}`);
    const commit = this.branches.get(base);
    if (commit === undefined) return Promise.reject(new UserError(`the base branch "${base}" does not exist`));
    return Promise.resolve(commit);
  }

  create(instance: string, base: string, commit: string): Promise<Workspace> {
    this.calls.push(`create ${instance}`);
    this.checkouts.set(instance, { base, commit, owner: null });
    return Promise.resolve(this.#workspace(instance));
  }

  find(instance: string): Promise<Workspace | null> {
    return Promise.resolve(this.checkouts.has(instance) ? this.#workspace(instance) : null);
  }

  remove(instance: string): Promise<boolean> {
    this.calls.push(`remove ${instance}`);
    return Promise.resolve(this.checkouts.delete(instance));
  }

  handOver(workspace: Workspace, uid: number, gid: number): Promise<void> {
    const checkout = this.checkouts.get(workspace.instance);
    if (checkout !== undefined) checkout.owner = { uid, gid };
    return Promise.resolve();
  }

  /** Object files each checkout shares with the store (as one made by an older cspace); none unless a test sets it. */
  readonly sharedFiles = new Map<string, number>();

  sharedObjectFiles(instance: string): Promise<number> {
    return Promise.resolve(this.checkouts.has(instance) ? (this.sharedFiles.get(instance) ?? 0) : 0);
  }

  borrowStore(instance: string): Promise<void> {
    this.calls.push(`borrow-store ${instance}`);
    this.sharedFiles.delete(instance);
    return Promise.resolve();
  }

  #workspace(instance: string): Workspace {
    return { instance, path: this.pathOf(instance), supportMounts: [] };
  }
}
