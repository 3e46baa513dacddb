import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { INSTANCE_DIR_IN_CONTAINER, INSTANCE_FILES } from "../../core/messaging/layout.ts";

/** What the in-container `cspace blocked` writes (src/worker/cli/cli.ts), written the same way here. */
interface BlockedRecord {
  readonly reason: string;
  /** ISO 8601. */
  readonly at: string;
}

/** Where the instance directory is: CSPACE_INSTANCE_DIR (tests on the host), else /run/cspace. */
export function instanceDirFrom(env: Readonly<Record<string, string | undefined>>): string {
  const dir = env.CSPACE_INSTANCE_DIR;
  return dir === undefined || dir === "" ? INSTANCE_DIR_IN_CONTAINER : dir;
}

/**
 * Says the agent is blocked the way a real agent does: by running the
 * in-container `cspace blocked "<reason>"` (CSPACE_CLI names another
 * executable). Only where no such executable exists (a unit test on the
 * host) does it write the instance directory's blocked.json itself.
 */
export async function reportBlocked(reason: string, cwd: string, env: Readonly<Record<string, string | undefined>>): Promise<string> {
  const cli = env.CSPACE_CLI === undefined || env.CSPACE_CLI === "" ? "cspace" : env.CSPACE_CLI;
  const ran = await run(cli, ["blocked", reason], cwd, env);
  if (ran === "missing") {
    const file = path.join(instanceDirFrom(env), INSTANCE_FILES.blocked);
    mkdirSync(path.dirname(file), { recursive: true });
    const record: BlockedRecord = { reason, at: new Date().toISOString() };
    writeFileSync(file, `${JSON.stringify(record)}\n`);
    return `wrote ${file} (no ${cli} executable)`;
  }
  if (ran !== 0) throw new Error(`${cli} blocked exited with ${String(ran)}`);
  return `${cli} blocked`;
}

function run(command: string, args: readonly string[], cwd: string, env: Readonly<Record<string, string | undefined>>): Promise<number | "missing"> {
  return new Promise((resolve) => {
    const child = spawn(command, [...args], { cwd, env, stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", (error: NodeJS.ErrnoException) => {
      resolve(error.code === "ENOENT" ? "missing" : 127);
    });
    child.on("close", (code) => {
      resolve(code ?? 128);
    });
  });
}
