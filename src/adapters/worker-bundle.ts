import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { InternalError } from "../core/errors.ts";
import type { FileToCopy } from "../core/instances/ports.ts";
import { WORKER_BUNDLE_DIR } from "../core/messaging/layout.ts";

/** dist/worker/, built by scripts/bundle-worker.mjs (same depth from src/ and dist/). */
const BUNDLE_DIR = new URL("../../dist/worker/", import.meta.url);

/**
 * The worker bundle as the files every container gets: the supervisor, the
 * in-container `cspace` and the scripted agent in one file for the
 * container's Node 18, and the shell shim that puts `cspace` on its PATH.
 */
export async function workerBundleFiles(): Promise<FileToCopy[]> {
  const read = async (name: string): Promise<Buffer> => {
    try {
      return await readFile(new URL(name, BUNDLE_DIR));
    } catch (error) {
      throw new InternalError(`the worker bundle ${fileURLToPath(new URL(name, BUNDLE_DIR))} is missing: ${String(error)}`, {
        hint: "In a cspace checkout, run `npm run build`; an installed cspace ships it.",
        cause: error,
      });
    }
  };
  const [worker, shim] = await Promise.all([read("worker.cjs"), read("cspace")]);
  return [
    { path: `${WORKER_BUNDLE_DIR}/worker.cjs`, content: worker, mode: 0o644 },
    { path: "/usr/local/bin/cspace", content: shim, mode: 0o755 },
  ];
}
