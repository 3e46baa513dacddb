/**
 * The scripted model server for tests (README.md here): in process for unit
 * tests, or bundled to one Node-18 file to run inside a worker container.
 */
import { mkdir, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import type { ModelServerOptions, RunningModelServer } from "./server.ts";
import { createModelServer } from "./server.ts";

export type { LogEntry } from "./log.ts";
export type { ModelServerOptions, RunningModelServer } from "./server.ts";

const here = path.dirname(fileURLToPath(import.meta.url));
const cacheDir = path.resolve(here, "..", "..", "..", "node_modules", ".cache", "cspace-model-server");

/** Starts the server in this process on 127.0.0.1 (a free port unless `port` is given). */
export function startModelServer(options: ModelServerOptions = {}): Promise<RunningModelServer> {
  return createModelServer(options);
}

let bundled: Promise<string> | undefined;

/**
 * The server bundled to one ESM file with no imports but Node's built-ins,
 * for Node 18 (`node <file> --port <n> --log <path>`). Built once per process
 * into node_modules/.cache; written aside and renamed, so parallel test
 * processes never read a half-written file.
 */
export function modelServerFile(): Promise<string> {
  bundled ??= bundle();
  return bundled;
}

async function bundle(): Promise<string> {
  await mkdir(cacheDir, { recursive: true });
  const result = await build({
    entryPoints: [path.join(here, "main.ts")],
    write: false,
    bundle: true,
    platform: "node",
    target: "node18",
    format: "esm",
    packages: "bundle",
    legalComments: "none",
    logLevel: "warning",
  });
  const output = result.outputFiles[0];
  if (output === undefined) throw new Error("model-server: esbuild produced no bundle");
  const file = path.join(cacheDir, "server.mjs");
  const aside = `${file}.${String(process.pid)}.tmp`;
  await writeFile(aside, output.contents);
  await rename(aside, file);
  return file;
}
