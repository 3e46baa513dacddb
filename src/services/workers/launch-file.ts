import { readFile } from "node:fs/promises";
import { ExternalError, UserError } from "../../core/errors.ts";
import { parseLaunch, type Launch } from "../../core/messaging/launch.ts";
import type { InstancePaths } from "./instance-files.ts";

/** launch.json as `up` (or the last `restart`) wrote it; null when no agent was ever started here. */
export async function readLaunch(paths: InstancePaths): Promise<Launch | null> {
  let text: string;
  try {
    text = await readFile(paths.launch, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new ExternalError(`cannot read ${paths.launch}: ${String(error)}`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ExternalError(`${paths.launch} is not JSON: ${String(error)}`, { cause: error });
  }
  const parsed = parseLaunch(value);
  if (!parsed.ok) throw new ExternalError(`${paths.launch} is not valid: ${parsed.problems.join("; ")}`);
  return parsed.launch;
}

/** launch.json, or a refusal naming `up` for an instance whose agent never started. */
export async function requireLaunch(paths: InstancePaths, instance: string): Promise<Launch> {
  const launch = await readLaunch(paths);
  if (launch === null) {
    throw new UserError(`no agent was ever started in instance "${instance}"`, { hint: `cspace up ${instance} --prompt "<task>" starts one` });
  }
  return launch;
}

/** How long an interrupt or shutdown may take: SIGINT, SIGTERM after the grace, SIGKILL after as long again, then the report. */
export function stopTimeoutMs(launch: Launch | null): number {
  return 2 * (launch?.stopGraceMs ?? 5_000) + 10_000;
}
