// Builds the benchmark's repository: a bare repository whose `main` has a few
// hundred commits over a few hundred files, written in one `git fast-import`.
import { execa } from "execa";

export interface HistoryShape {
  readonly commits: number;
  readonly files: number;
}

const IDENTITY = "bench <bench@cspace.invalid>";

/** Fills the (empty, bare) repository `gitDir` with `shape.commits` commits on main. */
export async function writeHistory(gitDir: string, shape: HistoryShape): Promise<void> {
  const parts: string[] = [];
  const start = 1_700_000_000;
  for (let c = 1; c <= shape.commits; c++) {
    const message = `commit ${String(c)}`;
    parts.push(
      "commit refs/heads/main",
      `committer ${IDENTITY} ${String(start + c)} +0000`,
      `data ${String(Buffer.byteLength(message))}`,
      message,
    );
    // The first commit writes every file; later ones change three of them each.
    const touched = c === 1 ? range(shape.files) : [c % shape.files, (c * 7) % shape.files, (c * 13) % shape.files];
    for (const f of touched) {
      const content = fileContent(f, c);
      parts.push(`M 100644 inline ${filePath(f)}`, `data ${String(Buffer.byteLength(content))}`, content);
    }
    parts.push("");
  }
  await execa("git", ["--git-dir", gitDir, "fast-import", "--quiet"], { input: `${parts.join("\n")}\n` });
}

export function filePath(index: number): string {
  return `src/module-${String(index % 10)}/file-${String(index)}.ts`;
}

/** Forty lines, one of which says which commit last changed the file. */
export function fileContent(index: number, commit: number): string {
  const lines = Array.from({ length: 40 }, (_, l) => `export const value${String(l)} = ${String(index * 100 + l)};`);
  lines[index % 40] = `export const changedBy = ${String(commit)}; // file ${String(index)}`;
  return `${lines.join("\n")}\n`;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
