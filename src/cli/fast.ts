import path from "node:path";
import { Output } from "./output.ts";
import { reportError } from "./report-error.ts";
import { printSent, readStdin } from "./commands/send-output.ts";
// Static: this file is only loaded for `send`, and scripts/bundle-cli.mjs makes it one file with the code send runs.
import { sendMessage } from "../services/workers/send.ts";
import { closeOpenConnections } from "../services/open-connections.ts";

/**
 * Fast paths for the commands people and workers run most often, taken
 * before the full CLI is loaded (commander and every command's definition
 * cost more than `send` itself): bin/cspace tries this first. Only the plain
 * form is taken; anything else (a flag it does not know, --help, a missing
 * argument) returns null and the full CLI handles it, with its usage errors.
 */
export async function runFast(argv: readonly string[]): Promise<number | null> {
  const send = plainSend(argv);
  if (send === null) return null;
  const out = new Output({ json: send.json });
  try {
    const text = send.text === "-" ? await readStdin() : send.text;
    printSent(out, await sendMessage({ cwd: send.cwd, env: process.env, instance: send.instance, text }));
    return 0;
  } catch (error) {
    return reportError(error, out);
  } finally {
    // A remote worker's send opened its host's engine (an SSH connection), which would keep the process alive.
    await closeOpenConnections();
  }
}

interface PlainSend {
  readonly json: boolean;
  readonly cwd: string;
  readonly instance: string;
  readonly text: string;
}

/** `[--json] [--cwd <dir>] send <instance> <text> [--json]`, nothing else. */
function plainSend(argv: readonly string[]): PlainSend | null {
  let json = false;
  let cwd: string | undefined;
  const positional: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] ?? "";
    if (arg === "--json") json = true;
    else if (arg === "--cwd" && positional.length === 0 && index + 1 < argv.length) cwd = argv[++index];
    else if (arg.startsWith("--cwd=") && positional.length === 0) cwd = arg.slice("--cwd=".length);
    // "-" is the stdin marker; any other dash word (--help, -h, --) is the full CLI's to read.
    else if (arg.startsWith("-") && arg !== "-") return null;
    else positional.push(arg);
  }
  const [command, instance, text, ...rest] = positional;
  if (command !== "send" || instance === undefined || text === undefined || rest.length > 0 || cwd === "") return null;
  return { json, cwd: path.resolve(cwd ?? process.cwd()), instance, text };
}
