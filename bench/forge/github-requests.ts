// How many GitHub requests one squash merge costs when two pull requests are
// stacked on the merged one, counted on the simulator (same client, same code
// paths as against api.github.com). Run alone: node bench/forge/github-requests.ts
// (prints every request); bench/forge/run.ts prints the count.
import { simulatedGithub } from "../../test/support/github-simulator/harness.ts";

export interface CountedRequest {
  readonly method: string;
  readonly operationId: string | null;
  readonly status: number;
  readonly path: string;
}

/** The requests of one merge with two dependents: the gate, the merge, two retargets, the branch deletion. */
export async function mergeWithTwoDependentsRequests(): Promise<readonly CountedRequest[]> {
  const gh = await simulatedGithub();
  try {
    const { forge, seed, simulator } = gh;
    await seed.commit("main", { "README.md": "hello\n" }, "initial");
    const parentHead = await seed.commit("issue-5", { "a.txt": "a\n" }, "parent work", "main");
    await seed.commit("issue-6", { "b.txt": "b\n" }, "first dependent", "issue-5");
    await seed.commit("issue-7", { "c.txt": "c\n" }, "second dependent", "issue-5");
    const parent = await forge.openPullRequest({ head: "issue-5", base: "main", title: "Parent", body: "" });
    const dependents = [
      await forge.openPullRequest({ head: "issue-6", base: "issue-5", title: "First dependent", body: "" }),
      await forge.openPullRequest({ head: "issue-7", base: "issue-5", title: "Second dependent", body: "" }),
    ];
    simulator.resetRecords();

    // The merge gate: mergeability (one read when GitHub has it computed) and the checks on the verified head.
    const checked = await forge.getPullRequest(parent.number);
    await forge.checksFor(checked.headSha);
    await forge.squashMerge(parent.number, { expectedHeadSha: parentHead, title: "Parent (#5)", message: "" });
    // Restacking the dependents is `git rebase --onto` and a push: git traffic, no API request.
    for (const pull of dependents) await forge.retargetPullRequest(pull.number, "main");
    // Retargeted first, so deleting the merged branch cannot close them.
    await forge.deleteBranch("issue-5", { expectedSha: parentHead });

    const requests = simulator.requests.map(({ method, operationId, status, path }) => ({ method, operationId, status, path }));
    simulator.assertNoViolations();
    return requests;
  } finally {
    await gh.teardown();
  }
}

if (import.meta.main) {
  const requests = await mergeWithTwoDependentsRequests();
  console.log(`GitHub requests for a squash merge of one PR with two dependents: ${requests.length}`);
  for (const r of requests) console.log(`  ${r.method.padEnd(6)} ${(r.operationId ?? "?").padEnd(36)} ${r.status}  ${r.path}`);
}
