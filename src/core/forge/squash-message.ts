/** What the coordinator passes as a squash merge's commit title and message. */
export interface SquashMessage {
  readonly title: string;
  readonly message: string;
}

/**
 * The squash commit for pull request `number` (`head` into `base`) that
 * finishes `issue`, so `git log` on the base tells which issue each commit
 * did.
 *
 * On GitHub, pull requests and issues share one sequence of numbers, and
 * GitHub's own squash button titles the commit `Session store (#7)` with the
 * pull request's number (a link to it): cspace keeps that convention, and
 * the body's `Closes #12` names the issue (GitHub links it and closes it).
 * The local forge numbers its pull requests apart from its issues, so
 * `(#2)` would read as issue 2: the title names the issue instead,
 * `Session store (closes #12)`, and the body the pull request.
 */
export function squashMessage(options: {
  readonly title: string;
  readonly number: number;
  readonly head: string;
  readonly base: string;
  readonly issue: number | null;
  /** `github`: pull request and issue numbers are one sequence; `local`: two. */
  readonly numbering: "github" | "local";
}): SquashMessage {
  const title = options.title.trim();
  const pr = String(options.number);
  if (options.numbering === "github") {
    const suffix = ` (#${pr})`;
    return { title: title.endsWith(suffix) ? title : `${title}${suffix}`, message: options.issue === null ? "" : `Closes #${String(options.issue)}` };
  }
  const suffix = options.issue === null ? "" : ` (closes #${String(options.issue)})`;
  return {
    title: suffix === "" || title.endsWith(suffix) ? title : `${title}${suffix}`,
    message: `Squash-merged pull request ${pr} (${options.head} into ${options.base}) by cspace.`,
  };
}

/** The full commit message a forge writes: the title, a blank line, the message (when there is one). */
export function squashCommitText(title: string, message: string): string {
  const body = message.trim();
  return body === "" ? `${title.trim()}\n` : `${title.trim()}\n\n${body}\n`;
}
