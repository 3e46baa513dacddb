import { InternalError, UserError } from "../errors.ts";

export interface FeatureBranchSources {
  /** `--feature-branch`. */
  readonly flag?: string | null | undefined;
  /** `coordinator.featureBranch` from the config. */
  readonly configured?: string | null | undefined;
  /** The milestone being planned, when planning by milestone. */
  readonly milestone?: string | null | undefined;
  /** Needed only when nothing above names the branch ({@link needsDefaultBranch}): asking a forge for it may cost a request. */
  readonly defaultBranch?: string | undefined;
}

/** Whether {@link featureBranchFor} falls back to the default branch: only then is it worth asking for. */
export function needsDefaultBranch(sources: FeatureBranchSources): boolean {
  return sources.flag == null && sources.configured == null && sources.milestone == null;
}

/**
 * The branch finished work merges into: the flag, else the config, else
 * `feature/<milestone-slug>` when planning a milestone, else the default branch.
 * Throws a UserError naming the value and the rule it breaks.
 */
export function featureBranchFor(sources: FeatureBranchSources): string {
  if (sources.flag !== undefined && sources.flag !== null) return assertBranchName(sources.flag, "--feature-branch");
  if (sources.configured !== undefined && sources.configured !== null) {
    return assertBranchName(sources.configured, "coordinator.featureBranch");
  }
  if (sources.milestone !== undefined && sources.milestone !== null) {
    const slug = milestoneSlug(sources.milestone);
    if (slug === "") {
      throw new UserError(`milestone "${sources.milestone}" has no letters or digits to name a feature branch after`, {
        hint: "Pass --feature-branch <branch> or set coordinator.featureBranch.",
      });
    }
    return assertBranchName(`feature/${slug}`, `the feature branch of milestone "${sources.milestone}"`);
  }
  if (sources.defaultBranch === undefined) throw new InternalError("featureBranchFor: nothing names the feature branch and no default branch was given");
  return assertBranchName(sources.defaultBranch, "the default branch");
}

/** `Login & SSO v2` → `login-sso-v2`; accents are dropped (`Café` → `cafe`). */
export function milestoneSlug(milestone: string): string {
  return milestone
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/** The first of git's branch-name rules (git check-ref-format --branch) that `name` breaks, or null. */
export function branchNameProblem(name: string): string | null {
  const rules: readonly (readonly [boolean, string])[] = [
    [name === "", "it is empty"],
    [name.startsWith("-"), "it cannot start with '-'"],
    [name === "@" || name === "HEAD", `'${name}' is reserved`],
    [/\s/.test(name), "it cannot contain whitespace"],
    [hasControlCharacter(name), "it cannot contain control characters"],
    [/[~^:?*[\\]/.exec(name) !== null, `it cannot contain '${/[~^:?*[\\]/.exec(name)?.[0] ?? ""}'`],
    [name.includes(".."), "it cannot contain '..'"],
    [name.includes("@{"), "it cannot contain '@{'"],
    [name.startsWith("/") || name.endsWith("/"), "it cannot start or end with '/'"],
    [name.includes("//"), "it cannot contain '//'"],
    [name.endsWith("."), "it cannot end with '.'"],
    [name.split("/").some((part) => part.startsWith(".")), "no '/'-separated part can start with '.'"],
    [name.split("/").some((part) => part.endsWith(".lock")), "no '/'-separated part can end with '.lock'"],
  ];
  return rules.find(([broken]) => broken)?.[1] ?? null;
}

function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Returns `name` when git accepts it as a branch name; otherwise a UserError naming `what`. */
export function assertBranchName(name: string, what: string): string {
  const problem = branchNameProblem(name);
  if (problem !== null) {
    throw new UserError(`${what} "${name}" is not a valid git branch name: ${problem}`, {
      hint: "Use letters, digits, '-', '_', '.' and '/', like feature/login-v2.",
    });
  }
  return name;
}
