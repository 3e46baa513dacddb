import { json, notFound, str, type Handler, type SimResponse } from "./handler.ts";
import { takeId, type SimIssue, type SimPull, type World } from "./world.ts";

export function issueJson(world: World, issue: SimIssue): Record<string, unknown> {
  const url = `${world.baseUrl}/repos/${world.owner}/${world.name}/issues/${issue.number}`;
  const milestone = issue.milestone === null ? undefined : world.milestones.get(issue.milestone);
  return {
    id: issue.number,
    node_id: `I_${issue.number}`,
    url,
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
  const comment = { id: takeId(world), body: str(body.body) ?? "" };
  issue.comments.push(comment);
  const url = `${world.baseUrl}/repos/${world.owner}/${world.name}/issues/comments/${comment.id}`;
  return Promise.resolve(json(201, { id: comment.id, node_id: `IC_${comment.id}`, url, body: comment.body, issue_url: `${world.baseUrl}/repos/${world.owner}/${world.name}/issues/${number}` }));
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
};
