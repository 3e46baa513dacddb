import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { ExternalError } from "../../../core/errors.ts";
import { writeFileAtomic } from "../../../shared/atomic-file.ts";
import { withFileLock } from "../../fs/file-lock.ts";

/**
 * The local forge's pull requests: one JSON file inside the bare repository
 * (`cspace/pull-requests.json`), replaced atomically, and changed only under
 * an exclusive lock so two cspace processes never lose each other's records.
 */

const sha = z.string().regex(/^[0-9a-f]{40,64}$/);

const recordSchema = z.object({
  number: z.number().int().positive(),
  title: z.string(),
  body: z.string(),
  head: z.string(),
  base: z.string(),
  state: z.enum(["open", "closed", "merged"]),
  /** The head when opened or last updated; for a merged PR, the head that was merged. */
  headSha: sha,
  mergeSha: sha.nullable(),
  /**
   * Written before the base ref moves, cleared after: if cspace dies between
   * the two, the next merge finds the squash on the base and finishes the record
   * instead of merging again.
   */
  pendingMerge: z.object({ squashSha: sha, headSha: sha }).nullable().default(null),
});

const stateSchema = z.object({
  version: z.literal(1),
  nextNumber: z.number().int().positive(),
  pullRequests: z.array(recordSchema),
});

export type PullRequestRecord = z.infer<typeof recordSchema>;
export type PullRequestState = z.infer<typeof stateSchema>;

export interface PullRequestStore {
  /** The records as they are now (no lock: a consistent snapshot thanks to atomic replacement). */
  read(): Promise<PullRequestState>;
  /** Runs `work` under the lock with the current records and a way to replace them (atomically; callable more than once). */
  locked<T>(work: (state: PullRequestState, write: (next: PullRequestState) => Promise<void>) => Promise<T>): Promise<T>;
}

export function createPullRequestStore(gitDir: string): PullRequestStore {
  const dir = path.join(gitDir, "cspace");
  const file = path.join(dir, "pull-requests.json");

  async function read(): Promise<PullRequestState> {
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (error) {
      if (typeof error === "object" && error !== null && "code" in error && error.code === "ENOENT") {
        return { version: 1, nextNumber: 1, pullRequests: [] };
      }
      throw new ExternalError(`cannot read the pull requests in ${file}: ${String(error)}`, { cause: error });
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (error) {
      throw new ExternalError(`the pull requests file ${file} is not valid JSON`, { cause: error });
    }
    const parsed = stateSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ExternalError(`the pull requests file ${file} is damaged: ${parsed.error.issues[0]?.message ?? "invalid"}`);
    }
    return parsed.data;
  }

  return {
    read,
    async locked(work) {
      await mkdir(dir, { recursive: true });
      return withFileLock(path.join(dir, "pull-requests.lock"), async () =>
        work(await read(), (next) => { writeFileAtomic(file, `${JSON.stringify(next, null, 2)}\n`, { durable: true }); return Promise.resolve(); }),
      );
    },
  };
}

/** `state` with the record numbered `number` replaced by `record`. */
export function replaceRecord(state: PullRequestState, record: PullRequestRecord): PullRequestState {
  return { ...state, pullRequests: state.pullRequests.map((r) => (r.number === record.number ? record : r)) };
}
