/**
 * What `cspace doctor` reports: one result per check, and whether the machine
 * is ready. Pure: the service gathers observations through adapters and the
 * functions here turn them into results people can act on.
 */

/**
 * `warn` is a pass with a caveat worth reading (it never makes the machine
 * "not ready"); `skip` means the check could not run because another failed.
 */
export type CheckStatus = "pass" | "fail" | "warn" | "skip";

/** `squash-merge` is reported for the GitHub forge only: the local forge always squash-merges. */
/** `host` is reported once per configured host (workers.hosts), in config order, when more than the local engine is configured. */
export type CheckId = "docker-engine" | "base-image" | "host" | "git" | "node" | "config" | "forge" | "squash-merge" | "run-dir" | "workers" | "repository" | "agent" | "agent-key" | "verify";

export interface CheckResult {
  readonly id: CheckId;
  readonly title: string;
  readonly status: CheckStatus;
  /** Whether the machine is unusable for cspace while this check does not pass. */
  readonly required: boolean;
  readonly detail: string;
  /** What to do about it: one or two lines. */
  readonly hint?: string;
}

export interface DoctorReport {
  /** True when every required check passed (a warning counts as passed). */
  readonly ok: boolean;
  readonly checks: readonly CheckResult[];
}

/** The order checks are reported in, whatever order they finish in. */
export const checkOrder: readonly CheckId[] = ["docker-engine", "base-image", "host", "git", "node", "config", "forge", "squash-merge", "run-dir", "workers", "repository", "agent", "agent-key", "verify"];

export const requirements = {
  /** `git merge-tree --write-tree` arrived in 2.38. */
  git: "2.38",
  node: "22.13",
} as const;

export const baseImage = "cspace-base:bookworm";

export function summarize(checks: readonly CheckResult[]): DoctorReport {
  const sorted = [...checks]
    // Stable: the host checks keep their config order among themselves.
    .sort((a, b) => checkOrder.indexOf(a.id) - checkOrder.indexOf(b.id))
    // One key order for every check, so --json reads the same whoever made the result.
    .map(({ id, title, status, required, detail, hint }): CheckResult => ({ id, title, status, required, detail, ...(hint === undefined ? {} : { hint }) }));
  const ok = sorted.every((check) => !check.required || check.status === "pass" || check.status === "warn");
  return { ok, checks: sorted };
}

/** Counts by status, for the closing line of the report. */
export function tally(report: DoctorReport): Readonly<Record<CheckStatus, number>> {
  const counts: Record<CheckStatus, number> = { pass: 0, fail: 0, warn: 0, skip: 0 };
  for (const check of report.checks) counts[check.status] += 1;
  return counts;
}

export type Version = readonly [major: number, minor: number, patch: number];

/**
 * The first dotted version in a text: "git version 2.39.5 (Apple Git-143)",
 * "v22.13.0", "2.38". Missing parts count as 0; null when there is none.
 */
export function parseVersion(text: string): Version | null {
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(text);
  if (match === null) return null;
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

export function compareVersions(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** Whether `text` names a version at or above `minimum`; false when it names none. */
export function isAtLeast(text: string, minimum: string): boolean {
  const version = parseVersion(text);
  const floor = parseVersion(minimum);
  return version !== null && floor !== null && compareVersions(version, floor) >= 0;
}

export function formatVersion(version: Version): string {
  return version.join(".");
}

/** `git --version` output (or null when git is not on PATH) → the git check. */
export function gitCheck(output: string | null): CheckResult {
  const base = { id: "git", title: "git", required: true } as const;
  const hint = `Install git ${requirements.git} or newer (Debian/Ubuntu: apt-get install git; macOS: xcode-select --install or brew install git).`;
  if (output === null) return { ...base, status: "fail", detail: "git is not on PATH", hint };
  const version = parseVersion(output);
  if (version === null) return { ...base, status: "fail", detail: `cannot read a version from "git --version": ${output.trim()}`, hint };
  const shown = formatVersion(version);
  if (!isAtLeast(shown, requirements.git)) {
    return {
      ...base,
      status: "fail",
      detail: `git ${shown} is older than ${requirements.git} (cspace merges with git merge-tree --write-tree)`,
      hint,
    };
  }
  return { ...base, status: "pass", detail: `git ${shown}` };
}

/** `process.versions.node` → the node check. */
export function nodeCheck(version: string): CheckResult {
  const base = { id: "node", title: "Node.js", required: true } as const;
  if (isAtLeast(version, requirements.node)) return { ...base, status: "pass", detail: `Node.js ${version}` };
  return {
    ...base,
    status: "fail",
    detail: `Node.js ${version} is older than ${requirements.node}`,
    hint: `Install Node.js ${requirements.node} or newer (https://nodejs.org).`,
  };
}

/** A check that could not run because `because` (a failed prerequisite). */
/**
 * Whether the repository lets cspace squash-merge: `allowed` is null when
 * GitHub did not say (it shows merge settings only to tokens that may
 * administer the repository), a caveat rather than a failure.
 */
export function squashMergeCheck(repo: string, allowed: boolean | null): CheckResult {
  const base = { id: "squash-merge", title: "Squash merges", required: true } as const;
  const settings = `Settings → General → Pull Requests on https://github.com/${repo}`;
  if (allowed === true) return { ...base, status: "pass", detail: `${repo} allows squash merging` };
  if (allowed === false) {
    return {
      ...base,
      status: "fail",
      detail: `${repo} does not allow squash merging; cspace merges every pull request as a squash`,
      hint: `Tick "Allow squash merging" in ${settings} (a repository admin can).`,
    };
  }
  return {
    ...base,
    status: "warn",
    detail: `GitHub did not say whether ${repo} allows squash merging: it tells only tokens that may administer the repository`,
    hint: `Check that "Allow squash merging" is ticked in ${settings}; merges fail with 405 otherwise.`,
  };
}

export function skipped(id: CheckId, title: string, required: boolean, because: string): CheckResult {
  return { id, title, status: "skip", required, detail: `not checked: ${because}` };
}
