// Loaded with --import into a process: records every package the process
// loads from node_modules (by the module loader's resolve hook) and, at exit,
// writes their names, one a line, to the file named by
// CSPACE_BENCH_PACKAGES_FILE. Never in the timed runs.
import { writeFileSync } from "node:fs";
import { registerHooks } from "node:module";

const file = process.env.CSPACE_BENCH_PACKAGES_FILE;
if (file !== undefined) {
  const packages = new Set();
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(resolved.url);
      if (match !== null) packages.add(match[1]);
      return resolved;
    },
  });
  process.on("exit", () => {
    writeFileSync(file, [...packages].sort().join("\n"));
  });
}
