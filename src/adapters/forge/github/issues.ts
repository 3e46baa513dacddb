import { ForgeNotFoundError } from "../../../core/forge/errors.ts";
import type { IssueComment, IssueListing, IssueQuery, SubIssueListing } from "../../../core/forge/port.ts";
import type { Issue } from "../../../core/issues/issue.ts";
import { matchesFilter } from "../../../core/issues/selection.ts";
import { call, type GithubContext } from "./context.ts";

/** The fields of a GitHub issue cspace reads. */
interface IssueData {
  readonly number: number;
  readonly title: string;
  readonly state: string;
  readonly body?: string | null | undefined;
  readonly labels: readonly (string | { readonly name?: string | undefined })[];
  readonly milestone?: { readonly title: string } | null | undefined;
  readonly pull_request?: unknown;
}

function toIssue(data: IssueData): Issue {
  return {
    number: data.number,
    title: data.title,
    state: data.state === "closed" ? "closed" : "open",
    labels: data.labels.map((l) => (typeof l === "string" ? l : (l.name ?? ""))).filter((l) => l !== ""),
    milestone: data.milestone?.title ?? null,
    body: data.body ?? "",
  };
}

export async function getIssue(context: GithubContext, number: number): Promise<Issue> {
  const what = `read issue #${number} of ${context.owner}/${context.repo}`;
  // redirect "manual": a transferred issue answers 301, which is "not here", not the issue elsewhere.
  const { data } = await call(context, what, () =>
    context.octokit.rest.issues.get({ owner: context.owner, repo: context.repo, issue_number: number, request: { redirect: "manual" } }),
  );
  if (data.pull_request !== undefined) throw new ForgeNotFoundError(`#${number} in ${context.owner}/${context.repo} is a pull request, not an issue`);
  return toIssue(data);
}

export async function listIssues(context: GithubContext, query: IssueQuery): Promise<IssueListing> {
  if (query.numbers !== undefined) {
    const issues = await Promise.all(query.numbers.map((n) => getIssue(context, n)));
    return { issues: issues.filter((issue) => matchesFilter(issue, query)), notices: [] };
  }
  const milestone = query.milestone === undefined ? undefined : String(await milestoneNumber(context, query.milestone));
  const what = `list the issues of ${context.owner}/${context.repo}`;
  const items = await call(context, what, () =>
    context.octokit.paginate(context.octokit.rest.issues.listForRepo, {
      owner: context.owner,
      repo: context.repo,
      state: query.state ?? "open",
      per_page: 100,
      ...(query.label === undefined ? {} : { labels: query.label }),
      ...(milestone === undefined ? {} : { milestone }),
    }),
  );
  // The issues API lists pull requests too; they carry `pull_request`.
  return { issues: items.filter((item) => item.pull_request === undefined).map(toIssue), notices: [] };
}

/** GitHub filters by milestone number; cspace's config names milestones by title. */
async function milestoneNumber(context: GithubContext, title: string): Promise<number> {
  const milestones = await call(context, `list the milestones of ${context.owner}/${context.repo}`, () =>
    context.octokit.paginate(context.octokit.rest.issues.listMilestones, { owner: context.owner, repo: context.repo, state: "all", per_page: 100 }),
  );
  const found = milestones.find((m) => m.title === title);
  if (found === undefined) {
    const known = milestones.map((m) => JSON.stringify(m.title)).join(", ");
    throw new ForgeNotFoundError(`${context.owner}/${context.repo} has no milestone ${JSON.stringify(title)}`, {
      hint: known === "" ? "The repository has no milestones." : `Milestones there: ${known}.`,
    });
  }
  return found.number;
}

export async function closeIssue(context: GithubContext, number: number): Promise<void> {
  // `Closes #N` only fires for PRs into the default branch; stacked work is closed explicitly.
  await call(context, `close issue #${number}`, () =>
    context.octokit.rest.issues.update({ owner: context.owner, repo: context.repo, issue_number: number, state: "closed", state_reason: "completed" }),
  );
}

export async function commentOnIssue(context: GithubContext, number: number, body: string): Promise<IssueComment> {
  const { data } = await call(context, `comment on issue #${number}`, () =>
    context.octokit.rest.issues.createComment({ owner: context.owner, repo: context.repo, issue_number: number, body }),
  );
  return { id: data.id, body: data.body ?? "" };
}

export async function listComments(context: GithubContext, number: number): Promise<readonly IssueComment[]> {
  const items = await call(context, `list the comments on issue #${number}`, () =>
    context.octokit.paginate(context.octokit.rest.issues.listComments, { owner: context.owner, repo: context.repo, issue_number: number, per_page: 100 }),
  );
  return items.map((item) => ({ id: item.id, body: item.body ?? "" }));
}

/** GitHub names a comment by its id alone; `number` is only for the message. */
export async function updateComment(context: GithubContext, number: number, commentId: number, body: string): Promise<IssueComment> {
  const { data } = await call(context, `edit comment ${commentId} on issue #${number}`, () =>
    context.octokit.rest.issues.updateComment({ owner: context.owner, repo: context.repo, comment_id: commentId, body }),
  );
  return { id: data.id, body: data.body ?? "" };
}

/**
 * GitHub's sub-issues of `parent` (`issues.listSubIssues`, paginated), in
 * the parent's order. A sub-issue may live in another repository of the same
 * owner: cspace runs one repository's issues, so those are left out, each
 * with a notice.
 */
export async function subIssues(context: GithubContext, parent: number): Promise<SubIssueListing> {
  const items = await call(context, `list the sub-issues of #${parent} in ${context.owner}/${context.repo}`, () =>
    context.octokit.paginate(context.octokit.rest.issues.listSubIssues, { owner: context.owner, repo: context.repo, issue_number: parent, per_page: 100 }),
  );
  const here = `/repos/${context.owner}/${context.repo}`.toLowerCase();
  const numbers: number[] = [];
  const notices: string[] = [];
  for (const item of items) {
    const repository = new URL(item.repository_url).pathname.replace(/\/+$/, "");
    if (repository.toLowerCase().endsWith(here)) numbers.push(item.number);
    else notices.push(`#${parent}'s sub-issue ${repository.replace(/^.*\/repos\//, "")}#${item.number} is in another repository: left out (cspace runs one repository's issues)`);
  }
  return { numbers, notices };
}
