import path from "node:path";
import { CspaceError } from "../../../core/errors.ts";
import type { ForgeCheck } from "../../../core/forge/port.ts";
import { repositoryKind } from "../../git/git-version.ts";
import { readLocalIssues } from "./issue-files.ts";

export const localForgeTitle = "Forge (local)";

/** doctor's view of the local forge: the issues directory reads, and `forge.remote`, when set, is a bare repository. */
export async function checkLocalForge(options: { readonly projectDir: string; readonly issuesDir: string; readonly remote: string | undefined }): Promise<readonly ForgeCheck[]> {
  const base = { id: "forge", title: localForgeTitle, required: true } as const;
  try {
    const { issues, ignored } = await readLocalIssues(path.resolve(options.projectDir, options.issuesDir), options.projectDir);
    const parts = [`${options.issuesDir}: ${issues.length === 1 ? "1 issue" : `${String(issues.length)} issues`}`];
    if (options.remote !== undefined) {
      const kind = await repositoryKind(path.resolve(options.projectDir, options.remote));
      if (kind !== "bare") {
        const what = kind === "worktree" ? "a repository with a working tree, not a bare one" : "not a git repository";
        return [
          {
            ...base,
            status: "fail",
            detail: `forge.remote ${options.remote} is ${what}`,
            hint: `Create one with \`git init --bare ${options.remote}\`, or point forge.remote at a bare repository.`,
          },
        ];
      }
      parts.push(`remote ${options.remote} (bare)`);
    }
    if (ignored.length > 0) {
      return [{ ...base, status: "warn", detail: `${parts.join("; ")}; ignored ${ignored.join(", ")}`, hint: "Issue files are named <number>.md; rename or remove the others." }];
    }
    return [{ ...base, status: "pass", detail: parts.join("; ") }];
  } catch (error) {
    if (!(error instanceof CspaceError)) throw error;
    return [{ ...base, status: "fail", detail: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) }];
  }
}
