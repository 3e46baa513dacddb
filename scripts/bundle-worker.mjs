// Bundles the worker (src/worker/main.ts: supervisor, in-container `cspace`,
// scripted agent) into one CommonJS file with no dependencies, for the Node 18
// of worker containers: dist/worker/worker.cjs, plus dist/worker/cspace, the
// shell shim the host installs as /usr/local/bin/cspace.
//   node scripts/bundle-worker.mjs [--outdir <dir>]
import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const flag = process.argv.indexOf("--outdir");
const outdir = flag === -1 ? path.join(root, "dist", "worker") : path.resolve(process.argv[flag + 1] ?? "");
await mkdir(outdir, { recursive: true });

const result = await build({
  entryPoints: [path.join(root, "src", "worker", "main.ts")],
  outfile: path.join(outdir, "worker.cjs"),
  bundle: true,
  platform: "node",
  // Syntax is lowered to what Node 18 runs; APIs newer than 18 are kept out of src/worker by review and tests.
  target: "node18",
  format: "cjs",
  // Node's built-ins stay require()s (platform node); anything else must be bundled: no packages in the container.
  packages: "bundle",
  sourcemap: false,
  legalComments: "none",
  logLevel: "warning",
  metafile: true,
});
const inputs = Object.keys(result.metafile.inputs);
const foreign = inputs.filter((input) => input.includes("node_modules"));
if (foreign.length > 0) {
  console.error(`bundle-worker: the worker must not depend on packages, but it bundles: ${foreign.join(", ")}`);
  process.exit(1);
}

const shim = path.join(outdir, "cspace");
await writeFile(shim, '#!/bin/sh\n# The in-container cspace: this worker\'s own sockets only (see docs/protocol.md).\nexec node /opt/cspace/worker.cjs cli "$@"\n');
await chmod(shim, 0o755);
console.log(`bundle-worker: ${path.relative(root, path.join(outdir, "worker.cjs"))} (${String(inputs.length)} modules)`);
