import type { Issue } from "../../src/core/issues/issue.ts";

export interface IssueSpec extends Partial<Issue> {
  /** Internal dependencies, written as one `blocked-by:` line. */
  readonly deps?: readonly number[];
  /** Other repositories' issues (`owner/repo#N`), written as one `depends on` line. */
  readonly externalDeps?: readonly string[];
}

/** An issue for tests; `deps` become dependency lines appended to the body. */
export function issue(number: number, spec: IssueSpec = {}): Issue {
  const { deps = [], externalDeps = [], ...fields } = spec;
  const lines = [fields.body ?? `Work for issue ${number}.`];
  if (deps.length > 0) lines.push(`blocked-by: ${deps.map((d) => `#${d}`).join(", ")}`);
  if (externalDeps.length > 0) lines.push(`depends on ${externalDeps.join(" ")}`);
  return {
    number,
    title: `Issue ${number}`,
    state: "open",
    labels: [],
    milestone: null,
    ...fields,
    body: lines.join("\n"),
  };
}

/** Issues from a map of number → dependencies: `issues({ 10: [], 12: [10] })`. */
export function issuesFrom(deps: Readonly<Record<number, readonly number[]>>, closed: readonly number[] = []): Issue[] {
  return Object.entries(deps).map(([n, d]) =>
    issue(Number(n), { deps: d, state: closed.includes(Number(n)) ? "closed" : "open" }),
  );
}
