import { CspaceError, ExitCode, exitCodeFor } from "../core/errors.ts";
import type { Output } from "./output.ts";

/**
 * How a typed error becomes a message and an exit code: shared by the full
 * CLI (./main.ts, which adds commander's usage errors) and the fast paths
 * (./fast.ts), so a command says the same whichever way it ran.
 */
export function reportError(error: unknown, out: Output): number {
  if (error instanceof CspaceError) {
    const code = exitCodeFor(error.kind);
    if (out.json) {
      out.data({ error: { kind: error.kind, message: error.message, hint: error.hint ?? null } });
    }
    out.error(error.message);
    if (error.hint !== undefined) out.info(`hint: ${error.hint}`);
    if (error.kind === "internal") out.info("This is a bug in cspace; please report it with the command you ran.");
    return code;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  out.error(`unexpected failure: ${detail}`);
  out.info("This is a bug in cspace; please report it with the command you ran.");
  return ExitCode.internalError;
}
