import type { BareRepository } from "./git.ts";

/** What GitHub keeps beside git: issues, pull requests, comments, milestones, statuses. In memory. */
export interface SimIssue {
  readonly number: number;
  title: string;
  body: string;
  state: "open" | "closed";
  stateReason: "completed" | "not_planned" | "reopened" | null;
  labels: string[];
  milestone: number | null;
  readonly comments: { readonly id: number; body: string; readonly createdAt: string; updatedAt: string }[];
  /** Its sub-issues' numbers, in GitHub's order (the order they were added). */
  readonly subIssues: number[];
  /** The issue it is a sub-issue of: GitHub allows one parent. */
  parent: number | null;
}

export interface SimPull {
  readonly number: number;
  title: string;
  body: string;
  readonly head: string;
  base: string;
  state: "open" | "closed";
  merged: boolean;
  mergeSha: string | null;
  /** The head sha when the pull request closed; an open one follows its branch. */
  closedHeadSha: string | null;
  readonly draft: boolean;
  readonly createdAt: string;
}

export interface SimMilestone {
  readonly number: number;
  readonly title: string;
  state: "open" | "closed";
}

export interface CheckRun {
  readonly name: string;
  readonly status: "queued" | "in_progress" | "completed";
  readonly conclusion: "success" | "failure" | "neutral" | "cancelled" | "skipped" | "timed_out" | "action_required" | null;
}

export interface CommitStatus {
  readonly context: string;
  readonly state: "error" | "failure" | "pending" | "success";
}

export interface World {
  readonly owner: string;
  readonly name: string;
  readonly defaultBranch: string;
  /** Known once the server listens. */
  baseUrl: string;
  readonly git: BareRepository;
  readonly issues: Map<number, SimIssue>;
  readonly pulls: Map<number, SimPull>;
  readonly milestones: Map<number, SimMilestone>;
  readonly statuses: Map<string, CommitStatus[]>;
  readonly checkRuns: Map<string, CheckRun[]>;
  /** Issues and pull requests share one sequence, as on GitHub. */
  nextNumber: number;
  nextId: number;
}

/**
 * An issue's `id`, GitHub's global one, never its number: the sub-issues API
 * takes ids (`sub_issue_id`), so a client that sent a number would be caught.
 */
export function issueIdOf(number: number): number {
  return 4_000_000_000 + number;
}

export function takeNumber(world: World): number {
  return world.nextNumber++;
}

export function takeId(world: World): number {
  return world.nextId++;
}

/** The head sha of a pull request: its branch while open, frozen once closed. */
export async function headShaOf(world: World, pull: SimPull): Promise<string | null> {
  if (pull.state === "closed") return pull.closedHeadSha;
  return world.git.resolve(`refs/heads/${pull.head}`);
}

export async function closePull(world: World, pull: SimPull): Promise<void> {
  pull.closedHeadSha = await headShaOf(world, pull);
  pull.state = "closed";
}
