import { json, notFound, str, validationFailed, type Handler, type SimResponse } from "./handler.ts";
import { issueIdOf, takeId, type SimIssue, type SimPull, type World } from "./world.ts";

export function issueJson(world: World, issue: SimIssue): Record<string, unknown> {
  const url = `${world.baseUrl}/repos/${world.owner}/${world.name}/issues/${issue.number}`;
  const milestone = issue.milestone === null ? undefined : world.milestones.get(issue.milestone);
  return {
    id: issueIdOf(issue.number),
    node_id: `I_${issue.number}`,
    url,
    repository_url: `${world.baseUrl}/repos/${world.owner}/${world.name}`,
    ...(issue.parent === null ? {} : { parent_issue_url: `${world.baseUrl}/repos/${world.owner}/${world.name}/issues/${issue.parent}` }),
    html_url: `https://github.com/${world.owner}/${world.name}/issues/${issue.number}`,
    number: issue.number,
    state: issue.state,
    state_reason: issue.stateReason,
    title: issue.title,
    body: issue.body,
    labels: issue.labels.map((name, i) => ({ id: i + 1, name })),
    milestone: milestone === undefined ? null : milestoneJson(world, milestone.number, milestone.title, milestone.state),
  };
}

/** A pull request seen through the issues API, as GitHub lists it. */
function pullAsIssue(world: World, pull: SimPull): Record<string, unknown> {
  const url = `${world.baseUrl}/repos/${world.owner}/${world.name}/issues/${pull.number}`;
  return {
    id: pull.number,
    node_id: `I_${pull.number}`,
    url,
    html_url: `https://github.com/${world.owner}/${world.name}/pull/${pull.number}`,
    number: pull.number,
    state: pull.state,
    title: pull.title,
    body: pull.body,
    labels: [],
    milestone: null,
    pull_request: { url: `${world.baseUrl}/repos/${world.owner}/${world.name}/pulls/${pull.number}`, html_url: `https://github.com/${world.owner}/${world.name}/pull/${pull.number}` },
  };
}

function milestoneJson(world: World, number: number, title: string, state: "open" | "closed"): Record<string, unknown> {
  return { url: `${world.baseUrl}/repos/${world.owner}/${world.name}/milestones/${number}`, id: number, number, title, state };
}

const listForRepo: Handler = ({ world }, { query }) => {
  const state = query.state ?? "open";
  const labels = (query.labels ?? "").split(",").map((l) => l.trim()).filter((l) => l !== "");
  const milestone = query.milestone;
  const issues = [...world.issues.values()].filter((issue) => {
    if (state !== "all" && issue.state !== state) return false;
    if (!labels.every((l) => issue.labels.includes(l))) return false;
    if (milestone === undefined) return true;
    if (milestone === "*") return issue.milestone !== null;
    if (milestone === "none") return issue.milestone === null;
    return issue.milestone === Number(milestone);
  });
  // Pull requests appear in the issues list; only unfiltered queries see them here.
  const pulls = labels.length === 0 && milestone === undefined ? [...world.pulls.values()].filter((p) => state === "all" || p.state === state) : [];
  const items = [...issues.map((i) => issueJson(world, i)), ...pulls.map((p) => pullAsIssue(world, p))].sort(
    (a, b) => Number(b.number) - Number(a.number),
  );
  return Promise.resolve(paginate(world, `/repos/${world.owner}/${world.name}/issues`, query, items));
};

/** One page and GitHub's Link header. */
export function paginate(world: World, path: string, query: Readonly<Record<string, string>>, items: readonly unknown[]): SimResponse {
  const perPage = Math.min(Number(query.per_page ?? "30"), 100);
  const page = Number(query.page ?? "1");
  const slice = items.slice((page - 1) * perPage, page * perPage);
  if (page * perPage >= items.length) return json(200, slice);
  const next = new URLSearchParams({ ...query, page: String(page + 1) });
  return json(200, slice, { link: `<${world.baseUrl}${path}?${next.toString()}>; rel="next"` });
}

const get: Handler = ({ world }, { params }) => {
  const number = Number(params.issue_number);
  const issue = world.issues.get(number);
  if (issue !== undefined) return Promise.resolve(json(200, issueJson(world, issue)));
  const pull = world.pulls.get(number);
  return Promise.resolve(pull === undefined ? notFound() : json(200, pullAsIssue(world, pull)));
};

const update: Handler = ({ world }, { params, body }) => {
  const issue = world.issues.get(Number(params.issue_number));
  if (issue === undefined) return Promise.resolve(notFound());
  const state = str(body.state);
  if (state === "open" || state === "closed") issue.state = state;
  const reason = str(body.state_reason);
  if (reason === "completed" || reason === "not_planned" || reason === "reopened") issue.stateReason = reason;
  else if (state === "closed") issue.stateReason = "completed";
  if (str(body.title) !== undefined) issue.title = str(body.title) ?? issue.title;
  if (str(body.body) !== undefined) issue.body = str(body.body) ?? issue.body;
  return Promise.resolve(json(200, issueJson(world, issue)));
};

const createComment: Handler = ({ world }, { params, body }) => {
  const number = Number(params.issue_number);
  const issue = world.issues.get(number);
  if (issue === undefined) return Promise.resolve(notFound());
  const now = new Date().toISOString();
  const comment = { id: takeId(world), body: str(body.body) ?? "", createdAt: now, updatedAt: now };
  issue.comments.push(comment);
  return Promise.resolve(json(201, commentJson(world, number, comment)));
};

function commentJson(world: World, number: number, comment: SimIssue["comments"][number]): Record<string, unknown> {
  const repo = `${world.baseUrl}/repos/${world.owner}/${world.name}`;
  return {
    id: comment.id,
    node_id: `IC_${comment.id}`,
    url: `${repo}/issues/comments/${comment.id}`,
    html_url: `https://github.com/${world.owner}/${world.name}/issues/${number}#issuecomment-${comment.id}`,
    body: comment.body,
    issue_url: `${repo}/issues/${number}`,
    created_at: comment.createdAt,
    updated_at: comment.updatedAt,
  };
}

const listComments: Handler = ({ world }, { params, query }) => {
  const number = Number(params.issue_number);
  const issue = world.issues.get(number);
  if (issue === undefined) return Promise.resolve(notFound());
  const items = issue.comments.map((comment) => commentJson(world, number, comment));
  return Promise.resolve(paginate(world, `/repos/${world.owner}/${world.name}/issues/${number}/comments`, query, items));
};

/** GitHub finds a comment by its id alone, whichever issue holds it. */
const updateComment: Handler = ({ world }, { params, body }) => {
  const id = Number(params.comment_id);
  for (const issue of world.issues.values()) {
    const comment = issue.comments.find((c) => c.id === id);
    if (comment === undefined) continue;
    comment.body = str(body.body) ?? comment.body;
    comment.updatedAt = new Date().toISOString();
    return Promise.resolve(json(200, commentJson(world, issue.number, comment)));
  }
  return Promise.resolve(notFound());
};

/** The parent's sub-issues in their order, paginated; a missing parent is 404. */
const listSubIssues: Handler = ({ world }, { params, query }) => {
  const number = Number(params.issue_number);
  const parent = world.issues.get(number);
  if (parent === undefined) return Promise.resolve(notFound());
  const items = parent.subIssues.flatMap((n) => {
    const child = world.issues.get(n);
    return child === undefined ? [] : [issueJson(world, child)];
  });
  return Promise.resolve(paginate(world, `/repos/${world.owner}/${world.name}/issues/${number}/sub_issues`, query, items));
};

/** `sub_issue_id` is the child's id (not its number); a child that has a parent needs `replace_parent`. Answers the parent. */
const addSubIssue: Handler = ({ world }, { params, body }) => {
  const parent = world.issues.get(Number(params.issue_number));
  if (parent === undefined) return Promise.resolve(notFound());
  const child = [...world.issues.values()].find((issue) => issueIdOf(issue.number) === body.sub_issue_id);
  if (child === undefined) return Promise.resolve(validationFailed("Issue", "The provided sub-issue does not exist", "invalid"));
  if (child.number === parent.number) return Promise.resolve(validationFailed("Issue", "An issue cannot be its own sub-issue", "invalid"));
  if (child.parent !== null && body.replace_parent !== true) {
    return Promise.resolve(validationFailed("Issue", "Sub issue may only have one parent", "invalid"));
  }
  if (child.parent !== null) {
    const previous = world.issues.get(child.parent);
    previous?.subIssues.splice(previous.subIssues.indexOf(child.number), 1);
  }
  parent.subIssues.push(child.number);
  child.parent = parent.number;
  return Promise.resolve(json(201, issueJson(world, parent)));
};

const listMilestones: Handler = ({ world }, { query }) => {
  const state = query.state ?? "open";
  const items = [...world.milestones.values()]
    .filter((m) => state === "all" || m.state === state)
    .map((m) => milestoneJson(world, m.number, m.title, m.state));
  return Promise.resolve(paginate(world, `/repos/${world.owner}/${world.name}/milestones`, query, items));
};

export const issueHandlers: Readonly<Record<string, Handler>> = {
  "issues/list-for-repo": listForRepo,
  "issues/get": get,
  "issues/update": update,
  "issues/create-comment": createComment,
  "issues/list-milestones": listMilestones,
  "issues/list-comments": listComments,
  "issues/update-comment": updateComment,
  "issues/list-sub-issues": listSubIssues,
  "issues/add-sub-issue": addSubIssue,
};
