import { LABELS, WORKER_LAYOUT } from "./labels.ts";

/**
 * Whether a worker was made by an older cspace, and how. Containers and
 * checkouts change only when they are made again, so a worker made before
 * the hardening would keep, silently, what this version closed: a container
 * with Docker's default capabilities and no no-new-privileges, and above all
 * a checkout made with `clone --local`, whose object files are hard links
 * to the store's — root in that worker rewrites objects every other worker
 * and the store read.
 */
export interface WorkerLayoutFacts {
  readonly labels: Readonly<Record<string, string>>;
  /** Object files of the checkout that are also the store's (hard links); 0 without a checkout. */
  readonly sharedObjectFiles: number;
}

/** Why the worker is outdated, one reason a line; empty when it is made as this version makes workers. */
export function outdatedReasons(facts: WorkerLayoutFacts): string[] {
  const reasons: string[] = [];
  const layout = Number(facts.labels[LABELS.layout] ?? "1");
  if (!(layout >= Number(WORKER_LAYOUT))) {
    reasons.push(`its container is of layout ${Number.isNaN(layout) ? "unknown" : String(layout)}, not ${WORKER_LAYOUT}: made without the worker hardening (dropped capabilities, no-new-privileges, a pids limit)`);
  }
  if (facts.sharedObjectFiles > 0) {
    reasons.push(`its checkout shares ${String(facts.sharedObjectFiles)} object file${facts.sharedObjectFiles === 1 ? "" : "s"} with the project's store (hard links of clone --local, which a worker can rewrite for every other worker)`);
  }
  return reasons;
}
