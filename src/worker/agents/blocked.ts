import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { INSTANCE_DIR_IN_CONTAINER, INSTANCE_FILES } from "../../core/messaging/layout.ts";
import { cspaceCliFrom, runCli } from "./cspace-cli.ts";

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
  const cli = cspaceCliFrom(env);
  const ran = await runCli(cli, ["blocked", reason], cwd, env);
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
