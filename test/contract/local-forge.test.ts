import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { createLocalForge } from "../../src/adapters/forge/local/local-forge.ts";
import { readLocalComments } from "../../src/adapters/forge/local/local-issues.ts";
import { commitFiles, initBareRepo, tempDir } from "../support/git-fixtures.ts";
import { issueFile } from "../support/temp-project.ts";
import { forgeContract, type ForgeWorld } from "./forge-contract.ts";

/** A project directory with `.cspace/issues` and a bare repository `remote.git` beside it. */
export async function localForgeWorld(): Promise<ForgeWorld & { readonly projectDir: string }> {
  const root = await tempDir("cspace-local-forge-");
  const projectDir = path.join(root.dir, "project");
  const issuesDir = path.join(projectDir, ".cspace", "issues");
  await mkdir(issuesDir, { recursive: true });
  const gitDir = await initBareRepo(path.join(root.dir, "remote.git"));
  const forge = createLocalForge({ projectDir, issuesDir: ".cspace/issues", remote: "../remote.git" });
  return {
    projectDir,
    forge,
    seed: {
      gitDir,
      commit: (branch, files, message, from) => commitFiles(gitDir, branch, files, message, { from }),
      async issues(issues) {
        for (const { number, milestone, ...spec } of issues) {
          await writeFile(path.join(issuesDir, `${String(number)}.md`), issueFile({ ...spec, ...(milestone == null ? {} : { milestone }) }));
        }
      },
      comments: (number) => readLocalComments(issuesDir, number),
    },
    teardown: () => root.remove(),
  };
}

forgeContract("local", localForgeWorld);
