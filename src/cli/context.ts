import path from "node:path";
import type { Command } from "commander";
import { Output } from "./output.ts";

/** Options every command accepts, declared once on the root program. */
export interface GlobalOptions {
  readonly json: boolean;
  readonly cwd: string;
}

/** What a command action gets: its globals, where to print, how to finish. */
export interface CommandContext {
  readonly globals: GlobalOptions;
  readonly out: Output;
  readonly env: NodeJS.ProcessEnv;
}

export function globalOptionsOf(command: Command): GlobalOptions {
  const raw = command.optsWithGlobals<{ json?: boolean; cwd?: string }>();
  return {
    json: raw.json === true,
    cwd: path.resolve(raw.cwd ?? process.cwd()),
  };
}

export function contextFor(command: Command): CommandContext {
  const globals = globalOptionsOf(command);
  return { globals, out: new Output({ json: globals.json }), env: process.env };
}
