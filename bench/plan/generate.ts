import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Issue } from "../../src/core/issues/issue.ts";
import { seededRandom } from "../support/random.ts";

/**
 * A backlog of `size` issues: a DAG over generation order (each issue depends
 * on 1–3 earlier ones, a few on none), a mix of chains (the previous issue)
 * and fan-in (any earlier issue), under shuffled numbers so that many chains
 * run against the numbering. About one issue in ten is closed.
 */
export function generateIssues(size: number): Issue[] {
  const next = seededRandom(size);
  const numbers = Array.from({ length: size }, (_, i) => i + 1);
  for (let i = numbers.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [numbers[i], numbers[j]] = [numbers[j] ?? 0, numbers[i] ?? 0];
  }
  return numbers.map((number, index) => {
    const deps = new Set<number>();
    const count = index === 0 || next() < 0.1 ? 0 : 1 + Math.floor(next() * 3);
    while (deps.size < Math.min(count, index)) {
      const earlier = next() < 0.5 ? index - 1 : Math.floor(next() * index);
      deps.add(numbers[earlier] ?? 0);
    }
    const body = [`Generated issue ${number}.`, ""];
    if (deps.size > 0) body.push(`blocked-by: ${[...deps].map((d) => `#${d}`).join(", ")}`);
    return {
      number,
      title: `Generated issue ${number}`,
      state: next() < 0.1 ? "closed" : "open",
      labels: [],
      milestone: null,
      body: body.join("\n"),
    } satisfies Issue;
  });
}

/** Writes a project `cspace plan` can read: `.cspace.json` and `.cspace/issues/<N>.md`. */
export async function writeProject(dir: string, issues: readonly Issue[]): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  const issuesDir = path.join(dir, ".cspace", "issues");
  await mkdir(issuesDir, { recursive: true });
  await writeFile(path.join(dir, ".cspace.json"), `${JSON.stringify({ project: { name: "bench" } })}\n`);
  // In batches: ten thousand files opened at once would exceed the descriptor limit.
  for (let start = 0; start < issues.length; start += 200) {
    await Promise.all(
      issues.slice(start, start + 200).map((issue) =>
        writeFile(
          path.join(issuesDir, `${issue.number}.md`),
          `---\ntitle: ${issue.title}\nstate: ${issue.state}\n---\n${issue.body}\n`,
        ),
      ),
    );
  }
}
