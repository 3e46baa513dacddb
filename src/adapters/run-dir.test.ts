import { chmod, chown, lstat, mkdir, stat, symlink } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../../test/support/temp-dirs.ts";
import { ExternalError } from "../core/errors.ts";
import { runDirFor, type RunDir } from "../core/run-dir.ts";
import { ensureRunDir, inspectRunDir } from "./run-dir.ts";

const tempDir = useTempDirs("run-dir");
const uid = process.getuid?.();
const isRoot = uid === 0;
const NOBODY = 65534;

/** The default layout, `<tmp>/cspace-<uid>/<project-id>`, under a temporary folder standing for the system's /tmp. */
async function layout(): Promise<{ tmp: string; runDir: RunDir; top: string }> {
  const tmp = await tempDir();
  // Like /tmp: everyone may write, the sticky bit keeps them from replacing each other's entries.
  await chmod(tmp, 0o1777);
  const runDir = runDirFor({ env: {}, projectName: "shop", projectDir: "/src/shop", uid, tmpdir: tmp });
  return { tmp, runDir, top: path.dirname(runDir.path) };
}

async function failure(run: Promise<unknown>): Promise<ExternalError> {
  const error: unknown = await run.then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ExternalError);
  return error as ExternalError;
}

async function exists(file: string): Promise<boolean> {
  return (await lstat(file).catch(() => null)) !== null;
}

describe("ensureRunDir", () => {
  it("makes the run directory and its cspace parent private, under a sticky shared /tmp", async () => {
    const { runDir, top } = await layout();
    await ensureRunDir(runDir);
    for (const dir of [top, runDir.path]) expect((await stat(dir)).mode & 0o777).toBe(0o700);
    await ensureRunDir(runDir);
    expect((await inspectRunDir(runDir)).state).toBe("ready");
  });

  it.runIf(isRoot)("refuses a <tmp>/cspace-<uid> someone else prepared, naming it, its owner and mode, and makes nothing in it", async () => {
    const { runDir, top } = await layout();
    await mkdir(top);
    await chown(top, NOBODY, NOBODY);
    await chmod(top, 0o777);
    // The path warm passes today, and the layout doctor and warm can pass.
    for (const target of [runDir.path, runDir]) {
      const error = await failure(ensureRunDir(target));
      expect(error.message).toContain(top);
      expect(error.message).toContain(`user id ${NOBODY}`);
      expect(error.message).toContain("mode 0777");
      expect(error.hint).toMatch(/CSPACE_RUN_DIR/);
    }
    expect(await exists(runDir.path)).toBe(false);
  });

  it.runIf(isRoot)("refuses a run directory someone else made", async () => {
    const { runDir } = await layout();
    await mkdir(runDir.path, { recursive: true, mode: 0o700 });
    await chown(runDir.path, NOBODY, NOBODY);
    const error = await failure(ensureRunDir(runDir));
    expect(error.message).toMatch(new RegExp(`^the run directory ${runDir.path} belongs to someone else \\(owner user id ${NOBODY}, mode 0700`));
  });

  it("refuses a parent of our own that others may write, saying how to fix it", async () => {
    const { runDir, top } = await layout();
    await mkdir(top);
    await chmod(top, 0o777);
    const error = await failure(ensureRunDir(runDir));
    expect(error.message).toBe(`the run directory's parent ${top} can be written by other users (owner user id ${uid ?? ""}, mode 0777): they could replace cspace's sockets in it`);
    expect(error.hint).toContain(`chmod 700 ${top}`);
    expect(await exists(runDir.path)).toBe(false);
  });

  it("refuses a symbolic link where cspace makes a folder", async () => {
    const { tmp, runDir, top } = await layout();
    await mkdir(path.join(tmp, "elsewhere"));
    await symlink(path.join(tmp, "elsewhere"), top);
    expect((await failure(ensureRunDir(runDir))).message).toContain(`${top} exists and is not a directory (a symbolic link)`);
  });

  it("refuses a folder above that everyone may write and that is not sticky", async () => {
    const { tmp, runDir } = await layout();
    await chmod(tmp, 0o777);
    expect((await failure(ensureRunDir(runDir))).message).toContain(`the folder above the run directory ${tmp} can be written by every user and is not sticky`);
  });
});

describe("inspectRunDir", () => {
  it("reports a missing run directory as a state, and creates nothing", async () => {
    const { runDir, top } = await layout();
    expect(await inspectRunDir(runDir)).toEqual({ path: runDir.path, state: "missing", problems: [] });
    expect(await exists(top)).toBe(false);
  });

  it.runIf(isRoot)("refuses what ensureRunDir refuses, even before the run directory exists", async () => {
    const { runDir, top } = await layout();
    await mkdir(top, { mode: 0o777 });
    await chown(top, NOBODY, NOBODY);
    const inspection = await inspectRunDir(runDir);
    expect(inspection.state).toBe("refused");
    expect(inspection.problems.map((problem) => problem.path)).toEqual([top]);
  });
});
