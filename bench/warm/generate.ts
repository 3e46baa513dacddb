// Writes the benchmark's project: a git repository whose `main` has a few
// thousand commits and about 50 MB of packed history, written in one
// `git fast-import`, plus a checked-out working tree with .cspace.json and a
// devcontainer.json in image form (so warm is measured, not an image build).
import { spawn, execFileSync } from "node:child_process";
import { mkdir } from "node:fs/promises";
import { once } from "node:events";
import { seededRandom } from "../support/random.ts";

export interface RepoShape {
  readonly commits: number;
  /** Files in the tree; each commit rewrites one of them. */
  readonly files: number;
  /** Bytes of pseudo-random text per file. */
  readonly fileBytes: number;
}

export const SHAPE: RepoShape = { commits: 3_000, files: 300, fileBytes: 25_000 };

const IDENTITY = "bench <bench@cspace.invalid>";

export const DEVCONTAINER = { name: "bench", image: "cspace-base:bookworm" };

/** Lines of random lower-case "words": compresses to about 60%, like source text that differs a lot between versions. */
function text(random: () => number, bytes: number): string {
  const out: string[] = [];
  let size = 0;
  let line = "";
  while (size < bytes) {
    const length = 2 + Math.floor(random() * 8);
    let word = "";
    for (let i = 0; i < length; i++) word += String.fromCharCode(97 + Math.floor(random() * 26));
    line += line === "" ? word : ` ${word}`;
    if (line.length > 72) {
      out.push(line);
      size += line.length + 1;
      line = "";
    }
  }
  return `${out.join("\n")}\n`;
}

function filePath(index: number): string {
  return `src/part-${String(index % 12)}/file-${String(index)}.txt`;
}

/** Creates `dir` as a repository with the generated history on main and main checked out. */
export async function generateRepo(dir: string, projectName: string, shape: RepoShape = SHAPE): Promise<void> {
  await mkdir(dir, { recursive: true });
  const git = (...args: string[]): string => execFileSync("git", args, { cwd: dir, encoding: "utf8" }).trim();
  git("init", "--quiet", "--initial-branch=main");
  git("config", "user.name", "bench");
  git("config", "user.email", "bench@cspace.invalid");
  const child = spawn("git", ["fast-import", "--quiet"], { cwd: dir, stdio: ["pipe", "inherit", "inherit"] });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const write = async (chunk: string): Promise<void> => {
    if (!child.stdin.write(chunk)) await once(child.stdin, "drain");
  };
  const blob = (mode: string, file: string, content: string): string =>
    `M ${mode} inline ${file}\ndata ${String(Buffer.byteLength(content))}\n${content}\n`;
  const random = seededRandom(0xc5ace);
  const start = 1_700_000_000;
  for (let c = 1; c <= shape.commits; c++) {
    const message = `change ${String(c)}\n`;
    let entry = `commit refs/heads/main\ncommitter ${IDENTITY} ${String(start + c * 60)} +0000\ndata ${String(message.length)}\n${message}`;
    if (c === 1) {
      entry += blob("100644", ".cspace.json", `${JSON.stringify({ project: { name: projectName } }, null, 2)}\n`);
      entry += blob("100644", ".devcontainer/devcontainer.json", `${JSON.stringify(DEVCONTAINER, null, 2)}\n`);
      entry += blob("100644", "README.md", "# generated for bench/warm\n");
      for (let f = 0; f < shape.files; f++) entry += blob("100644", filePath(f), text(random, shape.fileBytes));
    } else {
      entry += blob("100644", filePath((c * 7919) % shape.files), text(random, shape.fileBytes));
    }
    await write(`${entry}\n`);
  }
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`git fast-import exited ${String(code)}`);
  git("reset", "--quiet", "--hard", "main");
}
