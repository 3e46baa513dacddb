import type { CommonTemplateData, TemplateDataByKind } from "../../../src/core/templates/data.ts";

/** Template data with every optional field set, as the coordinator has it for a stacked issue on GitHub. */
export const fullCommon: CommonTemplateData = {
  issue: {
    number: 12,
    title: "Add login",
    body: "Users log in with their email address.\n\nblocked-by: #10",
    url: "https://github.com/acme/app/issues/12",
    labels: ["auth", "backend"],
  },
  branch: "issue-12",
  baseBranch: "issue-10",
  featureBranch: "feature/login",
  dependencies: [
    { number: 9, title: "Schema", state: "merged", branch: "issue-9" },
    { number: 10, title: "User table", state: "launched", branch: "issue-10" },
  ],
  verifyCommand: "npm run verify",
  e2eCommand: "npm run e2e",
  repo: "acme/app",
  instance: "issue-12",
  context: "A TypeScript monorepo; run commands from the root.",
  baseSha: "3f2a1c0d9e8b",
  baseCommits: [
    { sha: "3f2a1c0d9e8b", title: "User table: add the email column" },
    { sha: "9b8c7d6e5f4a", title: "User table: create it" },
  ],
  earlierWork: { commits: [{ sha: "77aa88bb99cc", title: "Login: first try" }], restacked: true },
};

/** Only what is required: the local forge, no verify command, no dependencies, an empty body. */
export const minimalCommon: CommonTemplateData = {
  issue: { number: 3, title: "Fix the typo in the banner", body: "", labels: [] },
  branch: "issue-3",
  baseBranch: "main",
  featureBranch: "main",
  dependencies: [],
  repo: null,
  instance: "issue-3",
};

export const fullData: TemplateDataByKind = {
  nudge: { ...fullCommon, minutesSilent: 16, lastEvent: "tool: npm test -- --watch" },
  implementer: fullCommon,
  review: { ...fullCommon, pullRequestUrl: "https://github.com/acme/app/pull/40", diffSummary: " src/login.ts | 40 ++++\n 1 file changed, 40 insertions(+)" },
  rebase: { ...fullCommon, onto: "feature/login", from: "4b825dc", paths: ["src/login.ts", "src/session.ts"] },
  retry: {
    ...fullCommon,
    attempt: 2,
    maxAttempts: 3,
    failure: { kind: "verify", summary: "npm run verify exited 1", command: "npm run verify", output: "FAIL src/login.test.ts\n  expected 200, got 500" },
  },
};

export const minimalData: TemplateDataByKind = {
  nudge: { ...minimalCommon, minutesSilent: 15 },
  implementer: minimalCommon,
  review: minimalCommon,
  rebase: { ...minimalCommon, onto: "main" },
  retry: { ...minimalCommon, attempt: 2, maxAttempts: 2, failure: { kind: "agent-exit" } },
};
