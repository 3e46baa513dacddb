import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The commands people run often load only what their path needs
 * (docs/architecture.md, "Start-up"): zod's classic API is one 755 KB chunk
 * that cannot be tree-shaken, and it once came into `list`, `status
 * <instance>` and `send` with the checks of worker replies. This reads the
 * bundle as `npm run build` makes it: from the outputs each path loads (its
 * service and what that imports lazily on the way, found with a module-load
 * trace), every file reachable by static imports, and the sources each
 * file's source map names. Sizes and times are bench/startup's business.
 */
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const outdir = mkdtempSync(path.join(tmpdir(), "cspace-lean-"));

const PATHS: Readonly<Record<string, readonly string[]>> = {
  "cspace list": ["cli/main.js", "services/instances-list.js", "adapters/docker-containers.js", "ui/worker-status.js"],
  "cspace status <instance>": ["cli/main.js", "services/workers-status.js", "ui/worker-status.js"],
  "cspace send (bin's fast path)": ["cli/fast.js"],
};

beforeAll(() => {
  execFileSync(process.execPath, [path.join(ROOT, "scripts", "bundle-cli.mjs"), "--outdir", outdir], { cwd: ROOT, stdio: "ignore" });
}, 180_000);

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

/** `import … from "./x.js"` and `import "./x.js"` as esbuild writes them (not `import()`, which stays lazy). */
const STATIC_IMPORT = /^(?:import|export)\s[^;]*?from\s*"(\.[^"]+)";|^import\s*"(\.[^"]+)";/gm;

/** Every output a path loads before it runs: its entries and what they import statically, relative to dist/. */
function loadedFiles(entries: readonly string[]): string[] {
  const seen = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(path.join(outdir, file), "utf8");
    for (const match of text.matchAll(STATIC_IMPORT)) {
      const target = match[1] ?? match[2] ?? "";
      visit(path.posix.normalize(path.posix.join(path.posix.dirname(file), target)));
    }
  };
  for (const entry of entries) visit(entry);
  return [...seen];
}

/** The packages' files bundled into the outputs, as their source maps name them (node_modules/zod/v4/…). */
function bundledSources(files: readonly string[]): string[] {
  return files.flatMap((file) => {
    const map = path.join(outdir, `${file}.map`);
    if (!existsSync(map)) return [];
    const { sources } = JSON.parse(readFileSync(map, "utf8")) as { sources: string[] };
    return sources.map((source) => source.replace(/^(?:\.\.\/)+/, ""));
  });
}

describe("the paths people run most", () => {
  for (const [command, entries] of Object.entries(PATHS)) {
    it(`${command} loads no part of zod's classic API, and no language of zod's but English`, () => {
      const sources = bundledSources(loadedFiles(entries));
      expect(sources.some((source) => source.includes("src/cli/"))).toBe(true);
      expect(sources.filter((source) => source.includes("node_modules/zod/v4/classic/"))).toEqual([]);
      expect(sources.filter((source) => source.includes("node_modules/zod/v4/locales/") && !source.endsWith("/en.js"))).toEqual([]);
    });
  }
});
