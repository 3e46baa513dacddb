import { json, notFound, str, unprocessable, type Handler } from "./handler.ts";
import { closePull, type World } from "./world.ts";

function refJson(world: World, ref: string, sha: string): Record<string, unknown> {
  return {
    ref,
    node_id: `REF_${sha.slice(0, 12)}`,
    url: `${world.baseUrl}/repos/${world.owner}/${world.name}/git/${ref}`,
    object: { type: "commit", sha, url: `${world.baseUrl}/repos/${world.owner}/${world.name}/git/commits/${sha}` },
  };
}

/** Worlds whose repository had "Allow squash merging" switched off, as an admin can in Settings. */
const squashDisallowed = new WeakSet<World>();

export function setAllowSquashMerge(world: World, allowed: boolean): void {
  if (allowed) squashDisallowed.delete(world);
  else squashDisallowed.add(world);
}

const getRepo: Handler = ({ world }) =>
  Promise.resolve(
    json(200, {
      id: 1,
      node_id: "R_1",
      name: world.name,
      full_name: `${world.owner}/${world.name}`,
      private: false,
      owner: { login: world.owner, id: 1 },
      html_url: `https://github.com/${world.owner}/${world.name}`,
      default_branch: world.defaultBranch,
      allow_squash_merge: !squashDisallowed.has(world),
      allow_merge_commit: false,
      allow_rebase_merge: false,
      permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
    }),
  );

// two_factor_authentication makes this a private-user (the token's own account), as GitHub
// answers: with required fields relaxed, fewer fields would match public-user too, and oneOf wants one.
const getAuthenticated: Handler = () => Promise.resolve(json(200, { login: "cspace-bot", id: 1, type: "User", two_factor_authentication: true }));

const getRef: Handler = async ({ world }, { params }) => {
  const ref = params.ref ?? "";
  const sha = ref.startsWith("heads/") ? await world.git.resolve(`refs/${ref}`) : null;
  return sha === null ? notFound() : json(200, refJson(world, `refs/${ref}`, sha));
};

const createRef: Handler = async ({ world }, { body }) => {
  const ref = str(body.ref) ?? "";
  const sha = str(body.sha) ?? "";
  if (!/^refs\/[^/]+\/.+/.test(ref)) return unprocessable(`${ref} is not a valid ref name.`);
  if ((await world.git.resolve(sha)) === null) return unprocessable("Object does not exist");
  if (!(await world.git.updateRef(ref, sha, null))) return unprocessable("Reference already exists");
  return json(201, refJson(world, ref, sha));
};

const updateRef: Handler = async ({ world }, { params, body }) => {
  const ref = `refs/${params.ref ?? ""}`;
  const sha = str(body.sha) ?? "";
  const current = await world.git.resolve(ref);
  if (current === null) return unprocessable("Reference does not exist");
  if ((await world.git.resolve(sha)) === null) return unprocessable("Object does not exist");
  if (body.force !== true && !(await world.git.isAncestor(current, sha))) return unprocessable("Update is not a fast forward");
  if (!(await world.git.updateRef(ref, sha, current))) return unprocessable("Reference cannot be updated");
  return json(200, refJson(world, ref, sha));
};

const deleteRef: Handler = async ({ world }, { params }) => {
  const ref = `refs/${params.ref ?? ""}`;
  const current = await world.git.resolve(ref);
  if (current === null) return unprocessable("Reference does not exist");
  const branch = ref.replace(/^refs\/heads\//, "");
  // Deleting a branch closes the open pull requests from it, and (in the
  // reported cases the notes cite) those based on it: retarget first.
  for (const pull of world.pulls.values()) {
    if (pull.state === "open" && (pull.head === branch || pull.base === branch)) await closePull(world, pull);
  }
  if (!(await world.git.deleteRef(ref, current))) return unprocessable("Reference cannot be deleted");
  return { status: 204 };
};

const compare: Handler = async ({ world }, { params }) => {
  const [base = "", head = ""] = (params.basehead ?? "").split("...");
  const baseSha = await world.git.resolve(base.includes(":") ? base.slice(base.indexOf(":") + 1) : base);
  const headSha = await world.git.resolve(head.includes(":") ? head.slice(head.indexOf(":") + 1) : head);
  if (baseSha === null || headSha === null) return notFound();
  const { ahead, behind } = await world.git.aheadBehind(baseSha, headSha);
  const status = ahead === 0 && behind === 0 ? "identical" : behind === 0 ? "ahead" : ahead === 0 ? "behind" : "diverged";
  const mergeBase = (await world.git.mergeBase(baseSha, headSha)) ?? baseSha;
  return json(200, {
    url: `${world.baseUrl}/repos/${world.owner}/${world.name}/compare/${params.basehead ?? ""}`,
    status,
    ahead_by: ahead,
    behind_by: behind,
    total_commits: ahead,
    merge_base_commit: { sha: mergeBase },
  });
};

const combinedStatus: Handler = async ({ world }, { params }) => {
  const sha = await world.git.resolve(params.ref ?? "");
  if (sha === null) return notFound();
  const statuses = world.statuses.get(sha) ?? [];
  // As on GitHub: no statuses at all reads as "pending".
  const state = statuses.some((s) => s.state === "failure" || s.state === "error")
    ? "failure"
    : statuses.length === 0 || statuses.some((s) => s.state === "pending")
      ? "pending"
      : "success";
  return json(200, {
    state,
    sha,
    total_count: statuses.length,
    statuses: statuses.map((s, i) => ({ id: i + 1, context: s.context, state: s.state })),
  });
};

const listChecks: Handler = async ({ world }, { params }) => {
  const sha = await world.git.resolve(params.ref ?? "");
  if (sha === null) return notFound();
  const runs = world.checkRuns.get(sha) ?? [];
  return json(200, {
    total_count: runs.length,
    check_runs: runs.map((run, i) => ({ id: i + 1, name: run.name, head_sha: sha, status: run.status, conclusion: run.conclusion })),
  });
};

export const repoHandlers: Readonly<Record<string, Handler>> = {
  "repos/get": getRepo,
  "users/get-authenticated": getAuthenticated,
  "git/get-ref": getRef,
  "git/create-ref": createRef,
  "git/update-ref": updateRef,
  "git/delete-ref": deleteRef,
  "repos/compare-commits-with-basehead": compare,
  "repos/get-combined-status-for-ref": combinedStatus,
  "checks/list-for-ref": listChecks,
};
