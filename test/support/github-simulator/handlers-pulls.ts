import { json, notFound, str, unprocessable, validationFailed, type Handler, type HandlerContext, type SimResponse } from "./handler.ts";
import { paginate } from "./handlers-issues.ts";
import { closePull, headShaOf, takeNumber, type SimPull, type World } from "./world.ts";

function pullUrls(world: World, number: number): { url: string; html_url: string } {
  return {
    url: `${world.baseUrl}/repos/${world.owner}/${world.name}/pulls/${number}`,
    html_url: `https://github.com/${world.owner}/${world.name}/pull/${number}`,
  };
}

/** The fields of `pull-request-simple` (list items) that cspace reads: no mergeability there. */
async function pullSimpleJson(world: World, pull: SimPull): Promise<Record<string, unknown>> {
  const headSha = (await headShaOf(world, pull)) ?? "";
  const baseSha = (await world.git.resolve(`refs/heads/${pull.base}`)) ?? "";
  return {
    id: pull.number,
    node_id: `PR_${pull.number}`,
    ...pullUrls(world, pull.number),
    number: pull.number,
    state: pull.state,
    title: pull.title,
    body: pull.body,
    draft: pull.draft,
    created_at: pull.createdAt,
    merged_at: pull.merged ? pull.createdAt : null,
    merge_commit_sha: pull.mergeSha,
    head: { label: `${world.owner}:${pull.head}`, ref: pull.head, sha: headSha },
    base: { label: `${world.owner}:${pull.base}`, ref: pull.base, sha: baseSha },
  };
}

/** The full object adds `merged` and mergeability, computed by git (`mergeable: null` when a fault says so). */
async function pullJson(context: HandlerContext, pull: SimPull, computing: boolean): Promise<Record<string, unknown>> {
  const simple = await pullSimpleJson(context.world, pull);
  let mergeable: boolean | null = null;
  let mergeableState = "unknown";
  if (pull.state === "open" && !computing) {
    const head = await headShaOf(context.world, pull);
    const base = await context.world.git.resolve(`refs/heads/${pull.base}`);
    if (head !== null && base !== null) {
      mergeable = (await context.world.git.mergeTree(base, head)).clean;
      mergeableState = mergeable ? "clean" : "dirty";
    }
  }
  return { ...simple, merged: pull.merged, mergeable, mergeable_state: mergeableState };
}

function parseHead(world: World, head: string): { owner: string; branch: string } {
  const colon = head.indexOf(":");
  return colon < 0 ? { owner: world.owner, branch: head } : { owner: head.slice(0, colon), branch: head.slice(colon + 1) };
}

const list: Handler = async ({ world }, { query }) => {
  const state = query.state ?? "open";
  // GitHub filters by head only in the `owner:branch` form; a bare branch name is silently ignored.
  const head = query.head !== undefined && query.head.includes(":") ? parseHead(world, query.head) : undefined;
  const pulls = [...world.pulls.values()]
    .filter((p) => state === "all" || p.state === state)
    .filter((p) => head === undefined || (head.owner === world.owner && p.head === head.branch))
    .filter((p) => query.base === undefined || p.base === query.base)
    .sort((a, b) => b.number - a.number);
  const items = await Promise.all(pulls.map((p) => pullSimpleJson(world, p)));
  return paginate(world, `/repos/${world.owner}/${world.name}/pulls`, query, items);
};

const create: Handler = async (context, { body }) => {
  const { world } = context;
  const head = parseHead(world, str(body.head) ?? "");
  const base = str(body.base) ?? "";
  if (head.owner !== world.owner) return validationFailed("PullRequest", `head ${str(body.head) ?? ""} is not a branch of ${world.owner}/${world.name}`, "invalid");
  const headSha = await world.git.resolve(`refs/heads/${head.branch}`);
  const baseSha = await world.git.resolve(`refs/heads/${base}`);
  if (headSha === null) return invalidField("head");
  if (baseSha === null) return invalidField("base");
  if ([...world.pulls.values()].some((p) => p.state === "open" && p.head === head.branch)) {
    return validationFailed("PullRequest", `A pull request already exists for ${world.owner}:${head.branch}.`);
  }
  if (await world.git.isAncestor(headSha, baseSha)) return validationFailed("PullRequest", `No commits between ${base} and ${head.branch}`);
  const pull: SimPull = {
    number: takeNumber(world),
    title: str(body.title) ?? "",
    body: str(body.body) ?? "",
    head: head.branch,
    base,
    state: "open",
    merged: false,
    mergeSha: null,
    closedHeadSha: null,
    draft: body.draft === true,
    createdAt: new Date().toISOString(),
  };
  world.pulls.set(pull.number, pull);
  return json(201, await pullJson(context, pull, true));
};

const get: Handler = async (context, { params }) => {
  const pull = context.world.pulls.get(Number(params.pull_number));
  if (pull === undefined) return notFound();
  const computing = pull.state === "open" && context.faults.take("mergeable-null", "pulls/get") !== false;
  return json(200, await pullJson(context, pull, computing));
};

const update: Handler = async (context, { params, body }) => {
  const { world } = context;
  const pull = world.pulls.get(Number(params.pull_number));
  if (pull === undefined) return notFound();
  const base = str(body.base);
  if (base !== undefined && base !== pull.base) {
    if (pull.state === "closed") return validationFailed("PullRequest", "Cannot change the base branch of a closed pull request.");
    if ((await world.git.resolve(`refs/heads/${base}`)) === null) return invalidField("base");
    pull.base = base;
  }
  pull.title = str(body.title) ?? pull.title;
  pull.body = str(body.body) ?? pull.body;
  if (str(body.state) === "closed" && pull.state === "open") await closePull(world, pull);
  return json(200, await pullJson(context, pull, true));
};

/** GitHub's answer for a head or base branch that does not exist. */
function invalidField(field: "head" | "base"): SimResponse {
  return json(422, { message: "Validation Failed", errors: [{ resource: "PullRequest", field, code: "invalid" }], documentation_url: "https://docs.github.com/rest" });
}

const notMergeable = (message = "Pull Request is not mergeable"): SimResponse => json(405, { message, documentation_url: "https://docs.github.com/rest" });

const merge: Handler = async (context, { params, body }) => {
  const { world, faults } = context;
  const pull = world.pulls.get(Number(params.pull_number));
  if (pull === undefined) return notFound();
  if (pull.state !== "open") return notMergeable();
  if (faults.take("head-moved", "pulls/merge") !== false) await advanceHead(world, pull);
  const headSha = await headShaOf(world, pull);
  if (headSha === null) return notMergeable();
  const expected = str(body.sha);
  if (expected !== undefined && expected !== headSha) return json(409, { message: "Head branch was modified. Review and try the merge again." });
  if (faults.take("base-modified", "pulls/merge") !== false) return notMergeable("Base branch was modified. Review and try the merge again.");
  if ((str(body.merge_method) ?? "merge") !== "squash") return notMergeable("Merge commits are not allowed on this repository.");
  if (faults.take("base-advanced", "pulls/merge") !== false) await advanceBranch(world, pull.base, "a push to the base between check and merge");
  const baseSha = await world.git.resolve(`refs/heads/${pull.base}`);
  if (baseSha === null) return unprocessable("Base does not exist");
  const result = await world.git.mergeTree(baseSha, headSha);
  if (!result.clean) return notMergeable();
  const title = str(body.commit_title) ?? `${pull.title} (#${pull.number})`;
  const message = str(body.commit_message) ?? "";
  const squash = await world.git.commitTree(result.tree, [baseSha], message === "" ? title : `${title}\n\n${message}`);
  if (!(await world.git.updateRef(`refs/heads/${pull.base}`, squash, baseSha))) return notMergeable("Base branch was modified. Review and try the merge again.");
  pull.merged = true;
  pull.mergeSha = squash;
  await closePull(world, pull);
  return json(200, { sha: squash, merged: true, message: "Pull Request successfully merged" });
};

/** Someone pushes to the head between the check and the merge. */
async function advanceHead(world: World, pull: SimPull): Promise<void> {
  await advanceBranch(world, pull.head, "a push between check and merge");
}

/** A commit adding a file of its own on `branch`, as someone else's push would. */
async function advanceBranch(world: World, branch: string, subject: string): Promise<void> {
  const ref = `refs/heads/${branch}`;
  const old = await world.git.resolve(ref);
  if (old === null) return;
  const next = await world.git.commitFiles(old, { [`.simulator-push-${Date.now()}`]: "pushed meanwhile\n" }, subject);
  await world.git.updateRef(ref, next, old);
}

export const pullHandlers: Readonly<Record<string, Handler>> = {
  "pulls/list": list,
  "pulls/create": create,
  "pulls/get": get,
  "pulls/update": update,
  "pulls/merge": merge,
};
