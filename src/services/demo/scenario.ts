/**
 * The demo project's issues: a chain (1 ← 2 ← 4), a diamond (2 and 3 both
 * build on 1, and 4 on both), an independent issue (5), and a pair editing
 * the same line of the same file (6 and 7): whichever merges second is sent
 * the rebase template, and the scripted agent resolves it (see REBASE_TEMPLATE).
 */
export interface DemoIssue {
  readonly number: number;
  readonly title: string;
  readonly blockedBy: readonly number[];
  /** What the scripted agent commits: a file and its text. */
  readonly path: string;
  readonly text: string;
}

export const DEMO_ISSUES: readonly DemoIssue[] = [
  { number: 1, title: "Add the settings file", blockedBy: [], path: "settings.txt", text: "colour=blue" },
  { number: 2, title: "Read the settings at start-up", blockedBy: [1], path: "startup.txt", text: "reads settings.txt" },
  { number: 3, title: "Validate the settings", blockedBy: [1], path: "validate.txt", text: "checks settings.txt" },
  { number: 4, title: "Reload the settings on change", blockedBy: [2, 3], path: "reload.txt", text: "watches settings.txt" },
  { number: 5, title: "Write the changelog", blockedBy: [], path: "CHANGELOG.txt", text: "first release" },
  { number: 6, title: "Greet in English", blockedBy: [], path: "greeting.txt", text: "hello" },
  { number: 7, title: "Greet in French", blockedBy: [], path: "greeting.txt", text: "bonjour" },
];

/** How many issues `cspace demo --issues` may ask for, and the default (the seven above). */
export const DEMO_ISSUE_RANGE = { min: 1, max: 50, default: DEMO_ISSUES.length } as const;

/**
 * The demo's issues for `--issues N`: the seven above, then as many more
 * groups of the same shape as N needs (issues 8–14 a second chain, diamond,
 * independent issue and same-line pair, with files of their own, and so on),
 * the last group cut at N. Each issue depends only on lower numbers of its
 * own group, so a cut group keeps a valid graph; groups are independent, so
 * the run's critical path stays that of one group however large N is.
 */
export function demoIssues(count: number): DemoIssue[] {
  const issues: DemoIssue[] = [];
  for (let number = 1; number <= count; number++) {
    const group = Math.floor((number - 1) / DEMO_ISSUES.length);
    const shape = DEMO_ISSUES[(number - 1) % DEMO_ISSUES.length];
    if (shape === undefined) continue;
    const offset = group * DEMO_ISSUES.length;
    const part = group === 0 ? "" : ` (part ${String(group + 1)})`;
    const dot = shape.path.lastIndexOf(".");
    const file = group === 0 ? shape.path : `${shape.path.slice(0, dot)}-${String(group + 1)}${shape.path.slice(dot)}`;
    issues.push({ number, title: `${shape.title}${part}`, blockedBy: shape.blockedBy.map((d) => d + offset), path: file, text: shape.text });
  }
  return issues;
}

/** A local-forge issue file whose body the scripted agent follows. */
export function issueFile(issue: DemoIssue): string {
  const lines = ["---", `title: ${issue.title}`, "---", `Demo issue #${String(issue.number)}: the scripted agent writes \`${issue.path}\`.`, ""];
  for (const dependency of issue.blockedBy) lines.push(`blocked-by: #${String(dependency)}`);
  if (issue.blockedBy.length > 0) lines.push("");
  lines.push("cspace-script: sleep 1", `cspace-script: commit ${issue.path} ${issue.text}`, "");
  return lines.join("\n");
}

/**
 * The project's own rebase template (`.cspace/templates/rebase.md.hbs`): the
 * built-in one repeats the issue's body, whose `commit` line the scripted
 * agent would run again; this one carries only the instruction to rebase
 * onto the new base, keeping the agent's side of each conflict. A real
 * agent reads the built-in template's prose instead.
 */
export const REBASE_TEMPLATE = ["# Rebase `{{branch}}` onto `{{onto}}` (issue #{{issue.number}}: {{issue.title}})", "", "cspace-script: rebase {{onto}}", ""].join("\n");

export const DEMO_README = [
  "# cspace demo",
  "",
  "A throwaway project made by `cspace demo`: a local forge (`../remote.git`), scripted agents, and",
  "issues with chains, diamonds, independent issues and pairs editing the same line.",
  "`git --git-dir ../remote.git log --oneline main` shows what was merged.",
  "",
  "Run in this directory: `cspace status` (the run's table), `cspace list` (the instances),",
  "`cspace down --all --purge` (removes the instances, the object store and the run's log and reports).",
  "",
].join("\n");
