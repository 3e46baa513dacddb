import type { CoordinatorEvent } from "../../core/coordinator/events.ts";
import type { RunSettings } from "../../core/coordinator/vocabulary.ts";
import { buildDependencyGraph } from "../../core/graph/dependency-graph.ts";
import type { Forge } from "../../core/forge/port.ts";
import type { Issue } from "../../core/issues/issue.ts";
import type { IssueSelection } from "../../core/issues/selection.ts";
import { collectPlanIssues } from "../issues/collect.ts";

export interface LoadedRun {
  readonly issues: ReadonlyMap<number, Issue>;
  readonly selected: readonly number[];
  readonly notices: readonly string[];
  /** `RunStarted` for a new run (null when resuming) and `IssuesLoaded`. */
  readonly started: (runId: string, settings: RunSettings, at: string) => CoordinatorEvent;
  readonly loaded: (at: string) => CoordinatorEvent;
}

/** Reads the issues and builds the graph as `plan` does: cycles and missing issues are one user error naming them all. */
export async function loadRunIssues(forge: Forge, selection: IssueSelection): Promise<LoadedRun> {
  const found = await collectPlanIssues(forge, selection);
  const graph = buildDependencyGraph(found.issues, { selected: found.selected, repo: forge.repo });
  const issues = new Map(found.issues.map((issue) => [issue.number, issue]));
  return {
    issues,
    selected: found.selected,
    notices: found.notices,
    started: (runId, settings, at) => ({
      type: "RunStarted",
      at,
      runId,
      selected: found.selected,
      graph: { nodes: [...graph.nodes.values()].map(({ number, dependencies, external }) => ({ number, dependencies, external })), order: graph.order },
      settings,
    }),
    loaded: (at) => ({
      type: "IssuesLoaded",
      at,
      issues: [...graph.nodes.keys()].flatMap((n) => {
        const issue = issues.get(n);
        return issue === undefined ? [] : [{ number: n, title: issue.title, state: issue.state, url: null }];
      }),
      // Other repositories' issues are not read yet: left out, they count as open (blocked, with the reason).
      external: [],
    }),
  };
}
