import path from "node:path";
import { readUntrustedText, UNTRUSTED_LIMITS } from "../../adapters/fs/untrusted-dir.ts";
import { ExternalError, UserError } from "../../core/errors.ts";
import { parseLaunch, type Launch } from "../../core/messaging/launch.ts";
import { HOST_FILES, INSTANCE_FILES } from "../../core/messaging/layout.ts";
import { readHostFile } from "./host-files.ts";
import type { InstancePaths } from "./instance-files.ts";

/**
 * What the host last launched in an instance: its own copy in the host-only
 * directory (the worker cannot change it); for an instance started by a
 * cspace that kept none, the copy in the instance directory, read as
 * untrusted. Null when there is neither.
 */
export async function readLaunchedFile(paths: InstancePaths, which: "launch" | "prompt"): Promise<{ readonly file: string; readonly text: string } | null> {
  const text = await readHostFile(paths, HOST_FILES[which]);
  if (text !== null) return { file: path.join(paths.hostDir, HOST_FILES[which]), text };
  const limit = which === "prompt" ? UNTRUSTED_LIMITS.prompt : UNTRUSTED_LIMITS.record;
  const theirs = await readUntrustedText(paths.dir, INSTANCE_FILES[which], limit);
  return theirs === null ? null : { file: path.join(paths.dir, INSTANCE_FILES[which]), text: theirs };
}

/** launch.json as `up` (or the last `restart`) wrote it; null when no agent was ever started here. */
export async function readLaunch(paths: InstancePaths): Promise<Launch | null> {
  const read = await readLaunchedFile(paths, "launch");
  if (read === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(read.text);
  } catch (error) {
    throw new ExternalError(`${read.file} is not JSON: ${String(error)}`, { cause: error });
  }
  const parsed = parseLaunch(value);
  if (!parsed.ok) throw new ExternalError(`${read.file} is not valid: ${parsed.problems.join("; ")}`);
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
