import { cspaceCliFrom, runCli } from "./cspace-cli.ts";

/**
 * Messages the coordinator the way a real agent does: by running the
 * in-container `cspace send _coordinator "<text>"` (CSPACE_CLI names another
 * executable). Unlike `blocked` there is no file to fall back on: with no
 * such executable, or when it exits non-zero, this throws.
 */
export async function sayToCoordinator(text: string, cwd: string, env: Readonly<Record<string, string | undefined>>): Promise<string> {
  const cli = cspaceCliFrom(env);
  const ran = await runCli(cli, ["send", "_coordinator", text], cwd, env);
  if (ran === "missing") throw new Error(`no ${cli} executable to send the message with`);
  if (ran !== 0) throw new Error(`${cli} send _coordinator exited with ${String(ran)}`);
  return `${cli} send _coordinator`;
}
