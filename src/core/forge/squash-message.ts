/** What the coordinator passes as a squash merge's commit title and message. */
export interface SquashMessage {
  readonly title: string;
  readonly message: string;
}

/**
 * The squash commit for pull request `number` (`head` into `base`) that
 * finishes `issue`: `Session store (#7)` then a body naming the branches and
 * the issue, so `git log` on the base tells which work each commit was.
 */
export function squashMessage(options: {
  readonly title: string;
  readonly number: number;
  readonly head: string;
  readonly base: string;
  readonly issue: number | null;
}): SquashMessage {
  const suffix = ` (#${options.number})`;
  const title = options.title.trim().endsWith(suffix) ? options.title.trim() : `${options.title.trim()}${suffix}`;
  const issueLine = options.issue === null ? "" : ` for issue #${options.issue}`;
  return { title, message: `Squash-merged ${options.head} into ${options.base}${issueLine} by cspace.` };
}

/** The full commit message a forge writes: the title, a blank line, the message (when there is one). */
export function squashCommitText(title: string, message: string): string {
  const body = message.trim();
  return body === "" ? `${title.trim()}\n` : `${title.trim()}\n\n${body}\n`;
}
