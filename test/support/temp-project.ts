import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";

export interface IssueSpec {
  readonly title: string;
  readonly state?: "open" | "closed";
  readonly labels?: readonly string[];
  readonly milestone?: string;
  readonly body?: string;
  /** `parent: N`: a sub-issue of #N. */
  readonly parent?: number;
}

export interface TempProject {
  readonly dir: string;
  remove(): Promise<void>;
}

/** A throwaway project directory with a .cspace.json and local issue files. */
export async function makeProject(options: {
  config?: unknown;
  issues?: Readonly<Record<number, IssueSpec>>;
}): Promise<TempProject> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "cspace-project-"));
  if (options.config !== undefined) {
    await writeFile(path.join(dir, ".cspace.json"), `${JSON.stringify(options.config, null, 2)}\n`);
  }
  const issuesDir = path.join(dir, ".cspace", "issues");
  await mkdir(issuesDir, { recursive: true });
  for (const [number, issue] of Object.entries(options.issues ?? {})) {
    await writeFile(path.join(issuesDir, `${number}.md`), issueFile(issue));
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

export function issueFile(issue: IssueSpec): string {
  const lines = ["---", `title: ${JSON.stringify(issue.title)}`, `state: ${issue.state ?? "open"}`];
  if (issue.labels !== undefined) lines.push(`labels: [${issue.labels.map((l) => JSON.stringify(l)).join(", ")}]`);
  if (issue.milestone !== undefined) lines.push(`milestone: ${JSON.stringify(issue.milestone)}`);
  if (issue.parent !== undefined) lines.push(`parent: ${String(issue.parent)}`);
  lines.push("---", "", issue.body ?? "");
  return `${lines.join("\n")}\n`;
}
