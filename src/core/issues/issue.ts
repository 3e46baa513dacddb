/** A reference to an issue as written in an issue body. */
export interface IssueReference {
  /** `owner/name` when the text names a repository, otherwise null (this repository). */
  readonly repo: string | null;
  readonly number: number;
}

export type IssueState = "open" | "closed";

/** An issue as cspace reads it: only the fields cspace uses. */
export interface Issue {
  readonly number: number;
  readonly title: string;
  readonly state: IssueState;
  readonly labels: readonly string[];
  readonly milestone: string | null;
  readonly body: string;
  /**
   * The parent issue a local issue's front matter names (`parent: 42`); absent
   * otherwise. GitHub keeps sub-issues apart from the issue: `Forge.subIssues`
   * is how every forge answers "the sub-issues of #42".
   */
  readonly parent?: number | undefined;
}
