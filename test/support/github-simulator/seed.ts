import type { FaultInjector, ForgeSeed, SeedIssue } from "../../contract/forge-contract.ts";
import type { GithubSimulator } from "./server.ts";

/** Prepares a simulator's world the way the contract suite asks: real commits, issues with given numbers. */
export function simulatorSeed(simulator: GithubSimulator): ForgeSeed {
  const { world } = simulator;
  return {
    gitDir: world.git.dir,
    async commit(branch, files, message, from) {
      const ref = `refs/heads/${branch}`;
      const current = await world.git.resolve(ref);
      const parent = current ?? (await world.git.resolve(from ?? world.defaultBranch));
      if (current === null && from !== undefined && parent === null) throw new Error(`seed: ${from} does not exist`);
      const sha = await world.git.commitFiles(parent, files, message);
      if (!(await world.git.updateRef(ref, sha, current))) throw new Error(`seed: ${branch} moved while committing`);
      return sha;
    },
    issues(issues: readonly SeedIssue[]) {
      for (const issue of issues) {
        if (issue.number < world.nextNumber) throw new Error(`seed: #${issue.number} is already used in the simulator`);
        world.issues.set(issue.number, {
          number: issue.number,
          title: issue.title,
          body: issue.body ?? "",
          state: issue.state ?? "open",
          stateReason: issue.state === "closed" ? "completed" : null,
          labels: [...(issue.labels ?? [])],
          milestone: issue.milestone === undefined || issue.milestone === null ? null : milestone(simulator, issue.milestone),
          comments: [],
          subIssues: [],
          parent: null,
        });
        world.nextNumber = Math.max(world.nextNumber, issue.number + 1);
        if (issue.parent !== undefined) linkSubIssue(simulator, issue.parent, issue.number);
      }
      return Promise.resolve();
    },
    comments(number) {
      return Promise.resolve(world.issues.get(number)?.comments.map((c) => c.body) ?? []);
    },
  };
}

/** Makes `child` a sub-issue of `parent`, as `POST .../sub_issues` does (test/support/github-simulator/handlers-sub-issues.ts). */
export function linkSubIssue(simulator: GithubSimulator, parent: number, child: number): void {
  const { world } = simulator;
  const parentIssue = world.issues.get(parent);
  const childIssue = world.issues.get(child);
  if (parentIssue === undefined || childIssue === undefined) throw new Error(`seed: #${parent} and #${child} must both be issues`);
  if (childIssue.parent !== null) throw new Error(`seed: #${child} already has the parent #${childIssue.parent}`);
  parentIssue.subIssues.push(child);
  childIssue.parent = parent;
}

function milestone(simulator: GithubSimulator, title: string): number {
  const { world } = simulator;
  const found = [...world.milestones.values()].find((m) => m.title === title);
  if (found !== undefined) return found.number;
  const number = world.milestones.size + 1;
  world.milestones.set(number, { number, title, state: "open" });
  return number;
}

export function simulatorFaults(simulator: GithubSimulator): FaultInjector {
  return {
    next(kind, options) {
      simulator.faults.inject(kind, { times: options?.times ?? 1 });
    },
  };
}
