import type { DatabaseSync } from "node:sqlite";
import { ExternalError } from "../../core/errors.ts";

/** What cspace uses of `node:sqlite`. */
export interface SqliteModule {
  readonly DatabaseSync: typeof DatabaseSync;
}

let loading: Promise<SqliteModule> | undefined;

/**
 * `node:sqlite`, imported on first use only, so commands that keep no
 * coordinator state never load it. Node 22.13 to 23 print "ExperimentalWarning:
 * SQLite is an experimental feature" on stderr when it loads (Node 24 does
 * not); that line would land in the middle of cspace's output and means
 * nothing to a user, so exactly that warning is dropped while the module
 * loads. No flag is needed from 22.13 on (22.5–22.12 wanted
 * --experimental-sqlite, but bin/cspace refuses those versions).
 */
export function loadSqlite(): Promise<SqliteModule> {
  loading ??= withoutSqliteWarning(() => import("node:sqlite")).catch((error: unknown) => {
    loading = undefined;
    throw new ExternalError(`this Node.js (${process.version}) has no usable node:sqlite, which the coordinator keeps its events in: ${String(error)}`, {
      hint: "run cspace with Node.js 22.13 or newer",
      cause: error,
    });
  });
  return loading;
}

/** Runs `load` with process.emitWarning dropping SQLite's experimental warning and passing every other one on. */
export async function withoutSqliteWarning<T>(load: () => Promise<T>): Promise<T> {
  // Kept unbound so the very same function is put back; it is only ever called with process as `this`.
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const original = process.emitWarning;
  const filtered = function (this: NodeJS.Process, warning: string | Error, ...rest: unknown[]): void {
    if (isSqliteExperimental(warning, rest[0])) return;
    Reflect.apply(original, this, [warning, ...rest]);
  };
  process.emitWarning = filtered;
  try {
    return await load();
  } finally {
    // Only if nobody replaced it meanwhile: their replacement stays.
    if (process.emitWarning === filtered) process.emitWarning = original;
  }
}

function isSqliteExperimental(warning: string | Error, typeOrOptions: unknown): boolean {
  const message = typeof warning === "string" ? warning : warning.message;
  const type =
    typeof warning !== "string" ? warning.name : typeof typeOrOptions === "string" ? typeOrOptions : typeof typeOrOptions === "object" && typeOrOptions !== null && "type" in typeOrOptions ? typeOrOptions.type : "Warning";
  return type === "ExperimentalWarning" && message.startsWith("SQLite ");
}
