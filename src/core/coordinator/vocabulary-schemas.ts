import { z } from "zod";
import { recordedReportSchema } from "../messaging/worker-messages.ts";
import { failureKinds } from "../templates/data.ts";
import type { AttemptWhy, BlockedBy, Failure, GraphSnapshot, LaunchPrompt, RunSettings, StackedParent } from "./vocabulary.ts";

/**
 * The schemas of the words events share (vocabulary.ts), each checked
 * against its type: the event registry's entries are built from these.
 */

/** A list the event keeps as it is (readonly, like the types it is checked against). */
export function list<T extends z.ZodType>(item: T) {
  return z.array(item).readonly();
}

export const issueNumber = z.number().int().positive();
export const count = z.number().int().min(0);
export const text = z.string();
export const timestamp = z.string().refine((value) => !Number.isNaN(Date.parse(value)), "must be an ISO 8601 time");

export const failureSchema: z.ZodType<Failure> = z.object({
  kind: z.enum(failureKinds),
  summary: text,
  command: text.nullable(),
  output: text.nullable(),
});

export const attemptWhySchema: z.ZodType<AttemptWhy> = z.enum(["initial", "retry", "rebase", "review"]);

export const rebasePromptSchema = z.object({
  kind: z.literal("rebase"),
  onto: text,
  ontoSha: text.nullable(),
  from: text.nullable(),
  paths: list(text),
  cause: z.enum(["restack-conflict", "pull-request-conflict"]),
});

export const launchPromptSchema: z.ZodType<LaunchPrompt> = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("implementer") }),
  z.object({ kind: z.literal("retry"), attempt: count, maxAttempts: count, failure: failureSchema }),
  rebasePromptSchema,
  z.object({ kind: z.literal("review"), headSha: text, pullRequestUrl: text.nullable() }),
]);

export const blockedBySchema: z.ZodType<BlockedBy> = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("dependency"), issue: issueNumber }),
  z.object({ kind: z.literal("outside"), ref: text }),
  z.object({ kind: z.literal("worker") }),
  z.object({ kind: z.literal("operator") }),
  z.object({ kind: z.literal("base"), sha: text }),
]);

export const runSettingsSchema: z.ZodType<RunSettings> = z.object({
  featureBranch: text,
  maxParallel: z.number().int().min(1),
  maxAttempts: count,
  review: z.boolean(),
  stacking: z.boolean(),
  onUsageLimit: z.enum(["wait", "fail"]).optional(),
  verify: z.object({ all: text.nullable(), e2e: text.nullable() }),
  verifyLanding: z.boolean().optional(),
  train: z.number().int().min(1).optional(),
  stallMinutes: z.number().positive().optional(),
  hostSlots: z.record(text, z.number().int().min(1)).optional(),
});

export const graphSnapshotSchema: z.ZodType<GraphSnapshot> = z.object({
  nodes: list(z.object({ number: issueNumber, dependencies: list(issueNumber), external: list(text) })),
  order: list(issueNumber),
});

export const stackedParentSchema: z.ZodType<StackedParent> = z.object({ issue: issueNumber, branch: text, parentSha: text.nullable() });

export const issueStateSchema = z.enum(["open", "closed"]);
export const mergeabilitySchema = z.enum(["mergeable", "conflicting", "unknown"]);
export const checksStateSchema = z.enum(["success", "pending", "failure", "none"]);

export { recordedReportSchema };
