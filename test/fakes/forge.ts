import { createHash } from "node:crypto";
import { ExternalError, UserError, type CspaceError } from "../../src/core/errors.ts";
import { ForgeConflictError, ForgeNotFoundError, HeadMovedError } from "../../src/core/forge/errors.ts";
import type {
  ChecksSummary,
  Forge,
  ForgeCheck,
  IssueComment,
  IssueListing,
  IssueQuery,
  MergeResult,
  PullRequest,
  PullRequestDraft,
  PullRequestState,
  SquashMergeOptions,
  SubIssueListing,
} from "../../src/core/forge/port.ts";
import { squashCommitText } from "../../src/core/forge/squash-message.ts";
import type { Issue } from "../../src/core/issues/issue.ts";
import { matchesFilter } from "../../src/core/issues/selection.ts";
import { assertBranchName } from "../../src/core/plan/feature-branch.ts";
import type { ForgeSeed, RepositoryView, SeedIssue } from "../contract/forge-contract.ts";

/**
 * An in-memory Forge for service tests: issues, branches over commits of
 * whole files, pull requests, squash merges that make a new commit, checks.
 * It passes the same contract suite as the real forges
 * (test/contract/fake-forge.test.ts). Merges are three-way, file by file:
 * two sides changing one file differently conflict, as with git.
 *
 * Faults: `failNext(method, error)` makes the next call of a method throw
 * (`{ times }` for more), `failAlways` every call until `clearFaults()`.
 * `calls` records every call through the port, in order.
 */
export type ForgeMethod = Exclude<keyof Forge, "repo" | "listsEveryIssueAtOnce">;

export interface FakeForgeOptions {
  /** `owner/name`, or null like the local forge (default). */
  readonly repo?: string | null;
  readonly defaultBranch?: string;
  /** Default true, like the local forge; false makes callers follow dependencies one issue at a time, like GitHub. */
  readonly listsEveryIssueAtOnce?: boolean;
}

export interface FakeCall {
  readonly method: ForgeMethod;
  readonly args: readonly unknown[];
}

interface Commit {
  readonly parents: readonly string[];
  readonly files: ReadonlyMap<string, string>;
  readonly message: string;
}

interface PullRecord {
  readonly number: number;
  title: string;
  body: string;
  readonly head: string;
  base: string;
  state: PullRequestState;
  headSha: string;
  mergeSha: string | null;
}

interface Fault {
  readonly error: CspaceError;
  /** Calls left to fail; Infinity for always. */
  remaining: number;
}

type Merge = { readonly kind: "clean"; readonly files: ReadonlyMap<string, string> } | { readonly kind: "conflict"; readonly paths: readonly string[] };

export class FakeForge implements Forge {
  readonly repo: string | null;
  readonly listsEveryIssueAtOnce: boolean;
  readonly calls: FakeCall[] = [];
  /** Notices every listing returns, as a forge's skipped files would. */
  notices: string[] = [];
  /** What `check()` answers. */
  health: ForgeCheck[] = [{ id: "forge", title: "Forge (fake)", status: "pass", required: true, detail: "in memory" }];

  private readonly defaultBranchName: string;
  private readonly issues = new Map<number, Issue>();
  private readonly comments = new Map<number, IssueComment[]>();
  private readonly commits = new Map<string, Commit>();
  private readonly branches = new Map<string, string>();
  private readonly pulls: PullRecord[] = [];
  private readonly checks = new Map<string, ChecksSummary>();
  private readonly faults = new Map<ForgeMethod, Fault[]>();
  private made = 0;
  private commentIds = 0;

  constructor(options: FakeForgeOptions = {}) {
    this.repo = options.repo ?? null;
    this.defaultBranchName = options.defaultBranch ?? "main";
    this.listsEveryIssueAtOnce = options.listsEveryIssueAtOnce ?? true;
  }

  // Test controls: none of them counts as a call or meets a fault.

  /** Adds or replaces issues; `deps`-style bodies come from test/fakes/issues.ts. */
  addIssues(issues: readonly Issue[]): this {
    for (const issue of issues) this.issues.set(issue.number, issue);
    return this;
  }

  failNext(method: ForgeMethod, error: CspaceError, options: { readonly times?: number } = {}): this {
    return this.addFault(method, error, options.times ?? 1);
  }

  failAlways(method: ForgeMethod, error: CspaceError): this {
    return this.addFault(method, error, Number.POSITIVE_INFINITY);
  }

  clearFaults(): this {
    this.faults.clear();
    return this;
  }

  setChecks(sha: string, summary: ChecksSummary): this {
    this.checks.set(sha, summary);
    return this;
  }

  /** Calls of one method, in order. */
  callsOf(method: ForgeMethod): readonly (readonly unknown[])[] {
    return this.calls.filter((call) => call.method === method).map((call) => call.args);
  }

  /** The contract suite's seed: commits as pushes would make them, issues, comments. */
  readonly seed: ForgeSeed = {
    commit: (branch, files, message, from) => Promise.resolve(this.commitOn(branch, files, message, from)),
    issues: (issues) => {
      this.addIssues(issues.map(seedIssue));
      return Promise.resolve();
    },
    comments: (number) => Promise.resolve((this.comments.get(number) ?? []).map((comment) => comment.body)),
  };

  /** How the contract suite reads the fake's commits. */
  readonly repository: RepositoryView = {
    branchSha: (branch) => Promise.resolve(this.branches.get(branch) ?? null),
    parents: (sha) => Promise.resolve(this.commit(sha).parents),
    tree: (sha) => Promise.resolve(treeId(this.commit(sha).files)),
    message: (sha) => Promise.resolve(this.commit(sha).message),
    firstParentCount: (rev) => {
      let count = 0;
      for (let sha = this.branches.get(rev) ?? rev; this.commits.has(sha); count++) sha = this.commits.get(sha)?.parents[0] ?? "";
      return Promise.resolve(count);
    },
    expectedMergeTree: (base, head) => {
      const merge = this.merge(base, head);
      return Promise.resolve(merge.kind === "clean" ? treeId(merge.files) : null);
    },
  };

  // The port.

  async check(): Promise<readonly ForgeCheck[]> {
    await this.enter("check", []);
    return this.health;
  }

  async listIssues(query: IssueQuery): Promise<IssueListing> {
    await this.enter("listIssues", [query]);
    const all = [...this.issues.values()].sort((a, b) => a.number - b.number);
    if (query.numbers === undefined) return { issues: all.filter((issue) => matchesFilter(issue, query)), notices: [...this.notices] };
    const missing = query.numbers.filter((n) => !this.issues.has(n));
    if (missing.length > 0) throw new ForgeNotFoundError(`issue ${missing.map((n) => `#${String(n)}`).join(", ")} not found in the fake forge`);
    const wanted = new Set(query.numbers);
    return { issues: all.filter((issue) => wanted.has(issue.number) && matchesFilter(issue, query)), notices: [...this.notices] };
  }

  async getIssue(number: number): Promise<Issue> {
    await this.enter("getIssue", [number]);
    return this.issue(number);
  }

  async closeIssue(number: number): Promise<void> {
    await this.enter("closeIssue", [number]);
    this.issues.set(number, { ...this.issue(number), state: "closed" });
  }

  async commentOnIssue(number: number, body: string): Promise<IssueComment> {
    await this.enter("commentOnIssue", [number, body]);
    this.issue(number);
    const comment = { id: ++this.commentIds, body };
    this.comments.set(number, [...(this.comments.get(number) ?? []), comment]);
    return comment;
  }

  async listComments(number: number): Promise<readonly IssueComment[]> {
    await this.enter("listComments", [number]);
    this.issue(number);
    return [...(this.comments.get(number) ?? [])];
  }

  async updateComment(number: number, commentId: number, body: string): Promise<IssueComment> {
    await this.enter("updateComment", [number, commentId, body]);
    this.issue(number);
    const comments = this.comments.get(number) ?? [];
    if (!comments.some((comment) => comment.id === commentId)) throw new ForgeNotFoundError(`comment ${String(commentId)} not found on issue #${String(number)} in the fake forge`);
    const updated = { id: commentId, body };
    this.comments.set(number, comments.map((comment) => (comment.id === commentId ? updated : comment)));
    return updated;
  }

  /** Issues whose `parent` is `parent`, by number, as the local forge reads `parent:` from front matter. */
  async subIssues(parent: number): Promise<SubIssueListing> {
    await this.enter("subIssues", [parent]);
    this.issue(parent);
    const numbers = [...this.issues.values()].filter((issue) => issue.parent === parent).map((issue) => issue.number).sort((a, b) => a - b);
    return { numbers, notices: [] };
  }

  async branchHead(branch: string): Promise<string | null> {
    await this.enter("branchHead", [branch]);
    return this.branches.get(assertBranchName(branch, "branch")) ?? null;
  }

  async createBranch(branch: string, sha: string): Promise<void> {
    await this.enter("createBranch", [branch, sha]);
    assertBranchName(branch, "branch");
    this.commit(sha);
    const actual = this.branches.get(branch);
    if (actual === sha) return;
    if (actual !== undefined) throw new ForgeConflictError(`branch ${branch} already exists at ${actual}, not ${sha}`);
    this.branches.set(branch, sha);
  }

  async moveBranch(branch: string, sha: string, options: { readonly expectedSha: string; readonly force: boolean }): Promise<void> {
    await this.enter("moveBranch", [branch, sha, options]);
    const actual = this.branches.get(assertBranchName(branch, "branch"));
    if (actual === undefined) throw new ForgeNotFoundError(`branch ${branch} not found in the fake forge`);
    if (actual !== options.expectedSha) throw moved(branch, options.expectedSha, actual);
    this.commit(sha);
    if (!options.force && !this.isAncestor(actual, sha)) throw new ForgeConflictError(`moving ${branch} from ${actual} to ${sha} is not a fast-forward`);
    this.branches.set(branch, sha);
  }

  async deleteBranch(branch: string, options: { readonly expectedSha: string | null }): Promise<void> {
    await this.enter("deleteBranch", [branch, options]);
    assertBranchName(branch, "branch");
    if (branch === this.defaultBranchName) throw new UserError(`branch ${branch} is the default branch; it cannot be deleted`);
    const actual = this.branches.get(branch);
    if (actual === undefined) return;
    if (options.expectedSha !== null && actual !== options.expectedSha) throw moved(branch, options.expectedSha, actual);
    this.branches.delete(branch);
  }

  async defaultBranch(): Promise<string> {
    await this.enter("defaultBranch", []);
    return this.defaultBranchName;
  }

  async findPullRequest(headBranch: string): Promise<PullRequest | null> {
    await this.enter("findPullRequest", [headBranch]);
    const newest = this.pulls.filter((pull) => pull.head === headBranch).sort((a, b) => b.number - a.number)[0];
    return newest === undefined ? null : this.present(newest);
  }

  async openPullRequest(draft: PullRequestDraft): Promise<PullRequest> {
    await this.enter("openPullRequest", [draft]);
    const headSha = this.existingBranch(draft.head, "head");
    const baseSha = this.existingBranch(draft.base, "base");
    const open = this.pulls.find((pull) => pull.head === draft.head && pull.state === "open");
    if (open !== undefined) {
      Object.assign(open, { title: draft.title, body: draft.body, base: draft.base, headSha });
      return this.present(open);
    }
    if (this.isAncestor(headSha, baseSha)) throw new ExternalError(`no commits between ${draft.base} and ${draft.head}: nothing to open a pull request for`);
    const created: PullRecord = { number: this.pulls.length + 1, ...draft, state: "open", headSha, mergeSha: null };
    this.pulls.push(created);
    return this.present(created);
  }

  async getPullRequest(number: number): Promise<PullRequest> {
    await this.enter("getPullRequest", [number]);
    return this.present(this.pull(number));
  }

  async retargetPullRequest(number: number, base: string): Promise<PullRequest> {
    await this.enter("retargetPullRequest", [number, base]);
    this.existingBranch(base, "base");
    const pull = this.pull(number);
    if (pull.state !== "open") throw new ExternalError(`pull request #${String(number)} is ${pull.state}; only an open pull request can be retargeted`);
    pull.base = base;
    return this.present(pull);
  }

  async squashMerge(number: number, options: SquashMergeOptions): Promise<MergeResult> {
    await this.enter("squashMerge", [number, options]);
    const pull = this.pull(number);
    if (pull.state === "merged" && pull.mergeSha !== null) {
      if (pull.headSha === options.expectedHeadSha) return { sha: pull.mergeSha };
      throw new HeadMovedError(`pull request #${String(number)} was already merged from ${pull.headSha}, not ${options.expectedHeadSha}`, {
        expectedSha: options.expectedHeadSha,
        actualSha: pull.headSha,
      });
    }
    if (pull.state !== "open") throw new ForgeConflictError(`pull request #${String(number)} is ${pull.state} and cannot be merged`);
    const headSha = this.branches.get(pull.head) ?? null;
    if (headSha !== options.expectedHeadSha) {
      throw new HeadMovedError(`the head of pull request #${String(number)} is at ${headSha ?? "nothing"}, not ${options.expectedHeadSha}`, {
        expectedSha: options.expectedHeadSha,
        actualSha: headSha,
      });
    }
    const baseSha = this.existingBranch(pull.base, "base");
    const merge = this.merge(baseSha, headSha);
    if (merge.kind === "conflict") {
      throw new ForgeConflictError(`pull request #${String(number)} conflicts with ${pull.base} in ${merge.paths.join(", ")}`, { paths: merge.paths });
    }
    const squash = this.store({ parents: [baseSha], files: merge.files, message: squashCommitText(options.title, options.message) });
    this.branches.set(pull.base, squash);
    Object.assign(pull, { state: "merged", headSha, mergeSha: squash });
    return { sha: squash };
  }

  async checksFor(sha: string): Promise<ChecksSummary> {
    await this.enter("checksFor", [sha]);
    return this.checks.get(sha) ?? { state: "none", details: [] };
  }

  // Inside.

  private addFault(method: ForgeMethod, error: CspaceError, times: number): this {
    this.faults.set(method, [...(this.faults.get(method) ?? []), { error, remaining: times }]);
    return this;
  }

  /** Records the call, and throws an armed fault; a microtask later, as a real forge would answer. */
  private async enter(method: ForgeMethod, args: readonly unknown[]): Promise<void> {
    this.calls.push({ method, args });
    await Promise.resolve();
    const fault = this.faults.get(method)?.[0];
    if (fault === undefined) return;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.set(method, (this.faults.get(method) ?? []).slice(1));
    throw fault.error;
  }

  private issue(number: number): Issue {
    const issue = this.issues.get(number);
    if (issue === undefined) throw new ForgeNotFoundError(`issue #${String(number)} not found in the fake forge`);
    return issue;
  }

  private pull(number: number): PullRecord {
    const pull = this.pulls.find((candidate) => candidate.number === number);
    if (pull === undefined) throw new ForgeNotFoundError(`pull request #${String(number)} not found in the fake forge`);
    return pull;
  }

  private commit(sha: string): Commit {
    const commit = this.commits.get(sha);
    if (commit === undefined) throw new ForgeNotFoundError(`commit ${sha} not found in the fake forge`);
    return commit;
  }

  private existingBranch(branch: string, role: string): string {
    const sha = this.branches.get(assertBranchName(branch, "branch"));
    if (sha === undefined) throw new ForgeNotFoundError(`the ${role} branch ${branch} does not exist in the fake forge`);
    return sha;
  }

  private present(pull: PullRecord): PullRequest {
    const common = { number: pull.number, title: pull.title, head: pull.head, base: pull.base, mergeSha: pull.mergeSha, url: `fake://pull/${String(pull.number)}` };
    if (pull.state !== "open") return { ...common, headSha: pull.headSha, state: pull.state, mergeability: "unknown", conflicts: [] };
    const headSha = this.branches.get(pull.head) ?? pull.headSha;
    const baseSha = this.branches.get(pull.base);
    const merge = baseSha === undefined ? null : this.merge(baseSha, headSha);
    return {
      ...common,
      headSha,
      state: "open",
      mergeability: merge?.kind === "clean" ? "mergeable" : "conflicting",
      conflicts: merge?.kind === "conflict" ? merge.paths : [],
    };
  }

  private commitOn(branch: string, files: Readonly<Record<string, string | null>>, message: string, from: string | undefined): string {
    const start = this.branches.get(branch) ?? (from === undefined ? this.branches.get(this.defaultBranchName) : (this.branches.get(from) ?? from));
    const next = new Map(start === undefined ? [] : this.commit(start).files);
    for (const [file, content] of Object.entries(files)) {
      if (content === null) next.delete(file);
      else next.set(file, content);
    }
    const sha = this.store({ parents: start === undefined ? [] : [start], files: next, message });
    this.branches.set(branch, sha);
    return sha;
  }

  private store(commit: Commit): string {
    const sha = createHash("sha1")
      .update(JSON.stringify([++this.made, commit.parents, treeId(commit.files), commit.message]))
      .digest("hex");
    this.commits.set(sha, commit);
    return sha;
  }

  private ancestors(sha: string): Set<string> {
    const seen = new Set<string>();
    const stack = [sha];
    for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
      if (seen.has(next)) continue;
      seen.add(next);
      stack.push(...this.commit(next).parents);
    }
    return seen;
  }

  private isAncestor(ancestor: string, of: string): boolean {
    return this.ancestors(of).has(ancestor);
  }

  /** Three-way, file by file, from the nearest common ancestor. */
  private merge(base: string, head: string): Merge {
    const ofBase = this.ancestors(base);
    const queue = [head];
    let common: string | undefined;
    for (let at = 0; at < queue.length && common === undefined; at++) {
      const sha = queue[at] ?? "";
      if (ofBase.has(sha)) common = sha;
      else queue.push(...this.commit(sha).parents);
    }
    const original = common === undefined ? new Map<string, string>() : this.commit(common).files;
    const ours = this.commit(base).files;
    const theirs = this.commit(head).files;
    const files = new Map<string, string>();
    const conflicts: string[] = [];
    for (const path of new Set([...original.keys(), ...ours.keys(), ...theirs.keys()])) {
      const [was, mine, yours] = [original.get(path), ours.get(path), theirs.get(path)];
      const merged = mine === yours || yours === was ? mine : mine === was ? yours : null;
      if (merged === null) conflicts.push(path);
      else if (merged !== undefined) files.set(path, merged);
    }
    return conflicts.length > 0 ? { kind: "conflict", paths: conflicts.sort() } : { kind: "clean", files };
  }
}

function treeId(files: ReadonlyMap<string, string>): string {
  return createHash("sha1")
    .update(JSON.stringify([...files].sort(([a], [b]) => (a < b ? -1 : 1))))
    .digest("hex");
}

function moved(branch: string, expectedSha: string | null, actualSha: string | null): HeadMovedError {
  return new HeadMovedError(`branch ${branch} is at ${actualSha ?? "nothing (deleted)"}, not the expected ${expectedSha ?? "nothing"}`, { expectedSha, actualSha });
}

function seedIssue(seed: SeedIssue): Issue {
  return {
    number: seed.number,
    title: seed.title,
    state: seed.state ?? "open",
    labels: seed.labels ?? [],
    milestone: seed.milestone ?? null,
    body: seed.body ?? "",
    ...(seed.parent === undefined ? {} : { parent: seed.parent }),
  };
}
