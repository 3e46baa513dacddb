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
  "seven issues with a chain, a diamond, an independent issue and two issues editing the same line.",
  "`git --git-dir ../remote.git log --oneline main` shows what was merged.",
  "",
].join("\n");
