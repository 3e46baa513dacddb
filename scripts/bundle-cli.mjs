// Bundles the CLI (src/cli/main.ts and everything it imports, statically or
// lazily) with esbuild into ES modules with code splitting: dist/cli/main.js,
// one file per lazily imported module (dist/services/plan.js, …) and the code
// they share in dist/chunks/. Replaces tsc's one-file-per-module output:
// loading is most of what a short command costs, and Node's module loader
// spends time on every file (resolving, reading, linking): `cspace --help`
// loaded 29 files and now 4, `cspace list` 157 and now 17. Lazy `import()`s
// stay lazy: each becomes its own output, loaded only by the command that
// needs it. A single file would not do: parsing the whole CLI (1.4 MB with
// zod) cost more than the files it saved.
//   node scripts/bundle-cli.mjs [--outdir <dir>]
import { readdir, readFile, rm } from "node:fs/promises";
import { builtinModules, createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const src = path.join(root, "src");
const flag = process.argv.indexOf("--outdir");
const outdir = flag === -1 ? path.join(root, "dist") : path.resolve(process.argv[flag + 1] ?? "");

/**
 * Packages every short command loads go into the bundle. The others stay
 * ordinary imports of node_modules: each is loaded by one code path only
 * (dockerode, octokit and bottleneck for the engine and GitHub, yaml for
 * front matter that is not flat, handlebars for prompts), some are CommonJS
 * with optional native parts, and leaving them out keeps them out of the
 * short commands' files altogether.
 */
const BUNDLED_PACKAGES = new Set(["commander", "zod", "jsonc-parser"]);

/** "zod/mini" → "zod", "@octokit/rest" → "@octokit/rest". */
function packageName(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] ?? specifier);
}

const externalPackages = {
  name: "external-packages",
  setup(context) {
    context.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:") || BUNDLED_PACKAGES.has(packageName(args.path))) return undefined;
      return { path: args.path, external: true };
    });
  },
};

/**
 * Source files find the package's own files (templates/, .devcontainer/,
 * package.json, dist/worker/) relative to `import.meta.url`, written for
 * tsc's layout, where src/a/b.ts becomes dist/a/b.js. In the bundle a
 * module's code lands in whichever output esbuild chooses, so each
 * `import.meta.url` in src/ is rewritten to the URL that module would have
 * had: relative to the output holding it, which is always one folder below
 * dist/ (checked after the build), so `../a/b.js` is right wherever it lands.
 */
const sourceLocations = {
  name: "source-locations",
  setup(context) {
    context.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!args.path.startsWith(`${src}${path.sep}`)) return undefined;
      const text = await readFile(args.path, "utf8");
      if (!text.includes("import.meta.url")) return { contents: text, loader: "ts" };
      const compiled = path.relative(src, args.path).split(path.sep).join("/").replace(/\.ts$/, ".js");
      return { contents: text.replaceAll("import.meta.url", `new URL(${JSON.stringify(`../${compiled}`)}, import.meta.url).href`), loader: "ts" };
    });
  },
};

/**
 * Node builtins are read with process.getBuiltinModule (Node 22.3 and later),
 * as require() reads them, rather than imported as ES modules: Node builds
 * an ES module facade for a builtin by reading every one of its exports,
 * which runs the lazy getters behind them (node:process, node:fs's
 * `promises`, node:util's …) and cost --help about a third of its time.
 * Each builtin becomes a small module that reads the names imported from it;
 * unused ones are dropped by tree shaking, as `/* @__PURE__ *\/` allows.
 */
const builtins = {
  name: "builtins",
  setup(context) {
    const names = new Set(builtinModules);
    context.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      const bare = args.path.replace(/^node:/, "");
      // One copy per importing module (a few bytes after tree shaking): shared,
      // it would be a chunk of its own, one more file for every command to load.
      return names.has(bare) ? { path: `node:${bare}`, namespace: "builtin", suffix: `?from=${path.relative(root, args.importer)}`, pluginData: bare } : undefined;
    });
    const require = createRequire(import.meta.url);
    context.onLoad({ filter: /.*/, namespace: "builtin" }, (args) => {
      const name = `node:${String(args.pluginData)}`;
      const exported = Object.keys(require(name)).filter((key) => /^[A-Za-z_]\w*$/.test(key) && key !== "default");
      // commander imports node:child_process whole, to run executable
      // subcommands, which cspace has none of: its first use loads it, not
      // commander's (~2 ms of every --help). The default export of
      // child_process is a plain object, so a proxy can stand in for it.
      const lazyDefault = name === "node:child_process";
      const lines = [
        // "$" starts no builtin's export names.
        `const $load = () => process.getBuiltinModule(${JSON.stringify(name)});`,
        "const $read = (key) => $load()[key];",
        lazyDefault
          ? "export default /* @__PURE__ */ new Proxy({}, { get: (_target, key) => $read(key), has: (_target, key) => key in $load() });"
          : "export default /* @__PURE__ */ $load();",
        ...exported.map((key) => `export const ${key} = /* @__PURE__ */ $read(${JSON.stringify(key)});`),
      ];
      return { contents: lines.join("\n"), loader: "js" };
    });
  },
};

/** The modules src/ imports with `import()`, found by a first pass: each becomes a named output. */
async function lazyModules() {
  const probe = await build({
    absWorkingDir: root,
    entryPoints: ["src/cli/main.ts"],
    bundle: true,
    write: false,
    platform: "node",
    format: "esm",
    metafile: true,
    logLevel: "silent",
    plugins: [externalPackages],
  });
  const lazy = new Set();
  for (const [input, info] of Object.entries(probe.metafile.inputs)) {
    if (!input.startsWith("src/")) continue;
    for (const imported of info.imports) {
      if (imported.kind === "dynamic-import" && !imported.external) lazy.add(imported.path);
    }
  }
  return [...lazy].sort();
}

/**
 * Every output sits one folder below dist/ (see sourceLocations): a module
 * keeps its tsc name when that is so (src/services/plan.ts → services/plan.js)
 * and deeper ones join the rest of their path (src/services/instances/list.ts
 * → services/instances-list.js).
 */
function outputName(input) {
  const [top, ...rest] = input.replace(/^src\//, "").replace(/\.ts$/, "").split("/");
  return `${top}/${rest.join("-")}`;
}

/**
 * Modules built alone, each into one file of its own with the packages it
 * uses, which the split build and the fast path import rather than bundle.
 * The checks of worker replies use zod/mini and are on the paths people run
 * most (`list`, `status`, `send`): in the split build esbuild puts a file
 * into the one chunk shared by every output that reaches it, with the code
 * any of them uses, so zod's core, which zod/mini shares with the classic
 * API the coordinator and the configuration use, would come whole into
 * `list` (a 665 KB chunk with every locale). Alone, the module holds only
 * the zod it uses. A process that loads both (the coordinator) has zod's
 * core twice; these checks return plain values, so no zod object passes
 * between the copies.
 */
const SEPARATE = ["src/core/messaging/worker-replies.ts"];

const separateModules = {
  name: "separate-modules",
  setup(context) {
    const outputs = new Map(SEPARATE.map((input) => [path.resolve(root, input), `../${outputName(input)}.js`]));
    context.onResolve({ filter: /^\./ }, (args) => {
      if (args.kind === "entry-point") return undefined;
      const output = outputs.get(path.resolve(args.resolveDir, args.path));
      return output === undefined ? undefined : { path: output, external: true };
    });
  },
};

const lazy = await lazyModules();
const entries = ["src/cli/main.ts", ...lazy];
// Outputs of an older build (chunks with other hashes, tsc's per-module files)
// would sit beside the new ones unused. The worker bundle has its own script
// (scripts/bundle-worker.mjs) and the compile cache is keyed by content.
const KEEP = new Set([".compile-cache", "worker"]);
for (const name of await readdir(outdir).catch(() => [])) {
  if (!KEEP.has(name)) await rm(path.join(outdir, name), { recursive: true, force: true });
}
for (const input of SEPARATE) {
  await build({
    absWorkingDir: root,
    entryPoints: [{ in: input, out: outputName(input) }],
    outdir,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node22.13",
    sourcemap: "linked",
    logLevel: "warning",
    plugins: [builtins, externalPackages, sourceLocations],
  });
}
const result = await build({
  absWorkingDir: root,
  entryPoints: entries.map((input) => ({ in: input, out: outputName(input) })),
  outdir,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  // package.json's engines.
  target: "node22.13",
  // jsonc-parser's "main" is a UMD build whose requires esbuild cannot follow; its "module" is plain ESM.
  mainFields: ["module", "main"],
  chunkNames: "chunks/[name]-[hash]",
  sourcemap: "linked",
  metafile: true,
  logLevel: "warning",
  plugins: [separateModules, builtins, externalPackages, sourceLocations],
});

const outputs = Object.keys(result.metafile.outputs).filter((output) => output.endsWith(".js"));
const misplaced = outputs.filter((output) => path.relative(outdir, path.resolve(root, output)).split(path.sep).length !== 2);
if (misplaced.length > 0) {
  console.error(`bundle-cli: every output must be one folder below ${outdir} (import.meta.url is rewritten for that), but: ${misplaced.join(", ")}`);
  process.exit(1);
}
const modules = Object.keys(result.metafile.inputs).filter((input) => !input.startsWith("builtin:")).length;
console.log(`bundle-cli: ${String(modules)} modules into ${String(outputs.length)} files in ${path.relative(root, outdir) || "."}/`);

/**
 * A module src/ imports with `import()` stays a separate module in the fast
 * path's file: it is the split build's output of that module, so nothing
 * the fast path does not run is loaded, and nothing is in two places.
 */
const lazyFromSplitBuild = {
  name: "lazy-from-split-build",
  setup(context) {
    const outputs = new Map(lazy.map((input) => [path.resolve(root, input), `../${outputName(input)}.js`]));
    context.onResolve({ filter: /^\./ }, (args) => {
      if (args.kind !== "dynamic-import") return undefined;
      const output = outputs.get(path.resolve(path.dirname(args.importer), args.path));
      if (output === undefined) throw new Error(`bundle-cli: ${args.path} (imported by ${args.importer}) is not an output of the split build`);
      return { path: output, external: true };
    });
  },
};

/**
 * bin/cspace's fast path (src/cli/fast.ts, `cspace send`: people, workers
 * and scripts run it most) as one file: Node's module loader spends time on
 * every file it loads, and send's 16 files cost about 13 ms of its ~60.
 * Alone it could not be: what the split build loads lazily (the ports'
 * adapters) would be pulled in with their packages; they stay the split
 * build's files (above), loaded only if the path ever asks for them.
 */
const fast = await build({
  absWorkingDir: root,
  entryPoints: [{ in: "src/cli/fast.ts", out: "cli/fast" }],
  outdir,
  bundle: true,
  splitting: false,
  format: "esm",
  platform: "node",
  target: "node22.13",
  mainFields: ["module", "main"],
  sourcemap: "linked",
  metafile: true,
  logLevel: "warning",
  plugins: [lazyFromSplitBuild, separateModules, builtins, externalPackages, sourceLocations],
});
const fastModules = Object.keys(fast.metafile.inputs).filter((input) => !input.startsWith("builtin:")).length;
console.log(`bundle-cli: the fast path, ${String(fastModules)} modules, into cli/fast.js`);
