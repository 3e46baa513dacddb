import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { binPath, cleanEnv, type CliResult } from "../support/cli.ts";
import { useTempDirs } from "../support/temp-dirs.ts";

const tempDir = useTempDirs("plan-scale");

interface PlanJson {
  issues: { number: number; base: string | null; action: string; waitingOn: (number | string)[] }[];
}

/** `size` open issues in chains of 50: issue n is blocked by n - 1 except at the start of a chain. */
async function backlog(size: number, extraFiles: Readonly<Record<string, string>> = {}): Promise<string> {
  const dir = await tempDir();
  const issues = path.join(dir, ".cspace", "issues");
  mkdirSync(issues, { recursive: true });
  for (let n = 1; n <= size; n++) {
    const blocked = n % 50 === 1 ? "" : `blocked-by: #${String(n - 1)}\n`;
    writeFileSync(path.join(issues, `${String(n)}.md`), `---\ntitle: Issue ${String(n)}\nstate: open\nlabels: [scale]\n---\n\nWork.\n${blocked}`);
  }
  for (const [name, text] of Object.entries(extraFiles)) writeFileSync(path.join(issues, name), text);
  return dir;
}

function run(command: string, args: readonly string[]): CliResult {
  const result = spawnSync(command, args, { env: cleanEnv(), encoding: "utf8", timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The modules a `cspace` run loaded, recorded by a loader hook. */
async function modulesLoadedBy(args: readonly string[]): Promise<{ result: CliResult; modules: string[] }> {
  const dir = await tempDir();
  const hook = path.join(dir, "record-loads.mjs");
  const record = path.join(dir, "loaded.txt");
  writeFileSync(
    hook,
    `import { registerHooks } from "node:module";
import { writeFileSync } from "node:fs";
const loaded = [];
registerHooks({ load(url, context, next) { loaded.push(url); return next(url, context); } });
process.on("exit", () => writeFileSync(${JSON.stringify(record)}, loaded.join("\\n")));
`,
  );
  const result = run(process.execPath, ["--import", pathToFileURL(hook).href, binPath, ...args]);
  return { result, modules: readFileSync(record, "utf8").split("\n") };
}

describe("cspace plan at scale, on the local forge", () => {
  it("plans 2,500 issues with only 256 file descriptors allowed", async () => {
    const dir = await backlog(2500);
    const result = run("bash", ["-c", 'ulimit -n 256 && exec "$0" "$@"', process.execPath, binPath, "plan", "--json", "--cwd", dir, "--feature-branch", "main"]);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const plan = JSON.parse(result.stdout) as PlanJson;
    expect(plan.issues).toHaveLength(2500);
    // Four slots (the default maxParallel): the first four chains' roots; the links after a root wait on it, the rest for a slot.
    expect(plan.issues.filter((issue) => issue.action === "launch").map(({ number, base }) => [number, base])).toEqual([
      [1, "main"],
      [51, "main"],
      [101, "main"],
      [151, "main"],
    ]);
    expect(plan.issues.find((issue) => issue.number === 2)).toMatchObject({ action: "wait", waitingOn: [1] });
    expect(plan.issues.find((issue) => issue.number === 201)).toMatchObject({ action: "wait", waitingOn: ["slot"] });
  });

  it("loads neither the GitHub client nor the YAML parser when the issues' front matter is flat, and warns about a misnamed file", async () => {
    const dir = await backlog(20, { "notes.md": "not an issue\n" });
    const { result, modules } = await modulesLoadedBy(["plan", "--json", "--cwd", dir, "--feature-branch", "main"]);
    expect(result.status).toBe(0);
    expect(result.stderr).toContain("ignored .cspace/issues/notes.md: issue files are named <number>.md");
    expect(modules.some((url) => url.endsWith("/dist/services/plan.js"))).toBe(true);
    expect(modules.filter((url) => /node_modules\/(@octokit|bottleneck|yaml|dockerode)\//.test(url))).toEqual([]);
  });

  it("loads the YAML parser only when an issue needs it", async () => {
    const dir = await backlog(3, { "4.md": "---\ntitle: >\n  A folded\n  title\n---\nblocked-by: #3\n" });
    const { result, modules } = await modulesLoadedBy(["plan", "--json", "--cwd", dir, "--feature-branch", "main"]);
    expect(result.status).toBe(0);
    expect((JSON.parse(result.stdout) as PlanJson).issues.map((issue) => issue.number)).toEqual([1, 2, 3, 4]);
    expect(modules.some((url) => url.includes("/node_modules/yaml/"))).toBe(true);
    expect(modules.filter((url) => /node_modules\/(@octokit|bottleneck)\//.test(url))).toEqual([]);
  });
});
