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
  return [...outdatedContainer(facts.labels), ...outdatedCheckout(facts.sharedObjectFiles)];
}

/**
 * The container's part alone, from its labels: what `cspace list` shows,
 * without reading the checkout. Enough there because a container of the
 * current layout was made by this version's warm, on a checkout it made or
 * moved onto the store's mount: a checkout is kept only together with its
 * labelled container, whose layout then says it was outdated.
 */
export function outdatedContainer(labels: Readonly<Record<string, string>>): string[] {
  const reasons: string[] = [];
  const layout = Number(labels[LABELS.layout] ?? "1");
  if (!(layout >= Number(WORKER_LAYOUT))) {
    reasons.push(`its container is of layout ${Number.isNaN(layout) ? "unknown" : String(layout)}, not ${WORKER_LAYOUT}: made without the worker hardening (dropped capabilities, no-new-privileges, a pids limit)`);
  }
  return reasons;
}

/** The checkout's part: object files that are hard links to the store's. */
export function outdatedCheckout(sharedObjectFiles: number): string[] {
  if (sharedObjectFiles === 0) return [];
  return [`its checkout shares ${String(sharedObjectFiles)} object file${sharedObjectFiles === 1 ? "" : "s"} with the project's store (hard links of clone --local, which a worker can rewrite for every other worker)`];
}
