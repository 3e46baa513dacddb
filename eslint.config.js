// Lint enforces the layering of docs/architecture.md and the project's hygiene.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Modules that do I/O or drive outside systems: never in src/core. */
const outsideWorld = [
  "dockerode",
  "@octokit/*",
  "ink",
  "ink/*",
  "react",
  "react/*",
  "execa",
  "child_process",
  "node:child_process",
  "fs",
  "fs/*",
  "node:fs",
  "node:fs/*",
  "net",
  "node:net",
  "http",
  "node:http",
  "https",
  "node:https",
];

/** Relative-import patterns that reach into a given layer. */
const layer = (name) => [`**/${name}/**`, `../${name}`, `./${name}`];

const restrict = (patterns, message) => ({
  "no-restricted-imports": [
    "error",
    { patterns: patterns.map((p) => ({ group: p.groups, message: p.message ?? message })) },
  ],
});

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "bench/.work/"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "separate-type-imports" }],
      "@typescript-eslint/consistent-type-exports": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "no-restricted-syntax": [
        "error",
        { selector: "ExportDefaultDeclaration", message: "Use named exports." },
      ],
    },
  },
  {
    // Plain JavaScript files (this config, scripts, the bin shim) are not in the TS project.
    files: ["**/*.js", "**/*.mjs", "bin/cspace"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly" } },
    rules: { "no-restricted-syntax": "off" },
  },
  {
    // Tool configuration files are loaded through their default export.
    files: ["*.config.ts"],
    rules: { "no-restricted-syntax": "off" },
  },
  {
    files: ["src/core/**"],
    rules: restrict([
      { groups: outsideWorld, message: "src/core is pure: no I/O or outside-system modules (see docs/architecture.md)." },
      {
        groups: [...layer("adapters"), ...layer("services"), ...layer("cli"), ...layer("ui"), ...layer("worker"), ...layer("shared")],
        message: "src/core must not import outer layers.",
      },
    ]),
  },
  {
    // Shared by the host and the worker bundle (Node 18): Node's built-ins and its own modules, nothing else.
    files: ["src/shared/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^(?!node:|\\./)", message: "src/shared is bundled for the worker's Node 18: it imports only node: built-ins and its own modules (./)." }] },
      ],
    },
  },
  {
    files: ["src/adapters/**"],
    rules: restrict([
      { groups: [...layer("services"), ...layer("cli"), ...layer("ui")], message: "Adapters implement core ports; they must not import services, cli or ui." },
    ]),
  },
  {
    files: ["src/services/**"],
    rules: restrict([
      { groups: [...layer("cli"), ...layer("ui"), "ink", "react"], message: "Services emit events; they never call the UI or the CLI." },
    ]),
  },
  {
    // A container can write its instance directory: the host touches it only through adapters/fs/untrusted-dir.ts
    // (no link followed, regular files only, bounded reads, writes renamed into place). host-files.ts is the one
    // module here with plain fs, for the host-only directory. A separate rule name, so the layer rule above still applies.
    files: ["src/services/workers/**", "src/services/coordinate/pool/**"],
    ignores: ["src/services/workers/host-files.ts", "**/*.test.ts"],
    rules: {
      "@typescript-eslint/no-restricted-imports": [
        "error",
        {
          paths: [
            ...["node:fs/promises", "fs/promises"].map((name) => ({ name, allowTypeImports: true, message: "Instance directories are written by containers: use adapters/fs/untrusted-dir.ts (or host-files.ts for the host-only directory)." })),
            ...["node:fs", "fs"].map((name) => ({ name, allowTypeImports: true, allowImportNames: ["watch", "constants"], message: "Instance directories are written by containers: use adapters/fs/untrusted-dir.ts (or host-files.ts for the host-only directory)." })),
          ],
        },
      ],
    },
  },
  {
    files: ["src/ui/**"],
    rules: restrict([
      { groups: [...layer("adapters"), ...layer("services"), "dockerode", "@octokit/*", "execa", "node:child_process"], message: "The UI renders data and subscribes to events; it does not reach outside systems." },
    ]),
  },
  {
    // Bundled into one dependency-free file for the container's Node 18 (scripts/bundle-worker.mjs also refuses packages).
    files: ["src/worker/**"],
    rules: restrict([
      {
        groups: [...layer("services"), ...layer("cli"), ...layer("ui"), "../../adapters/docker/*", "../../adapters/forge/*", "../../adapters/git/*", "dockerode", "@octokit/*", "execa", "zod", "yaml", "handlebars", "commander", "ink", "react"],
        message: "src/worker runs in the container: it may use core, adapters/messaging and Node's built-ins only.",
      },
    ]),
  },
  {
    files: ["src/cli/**"],
    rules: restrict([
      { groups: [...layer("adapters"), "dockerode", "@octokit/*", "execa", "node:child_process"], message: "Commands call services, not adapters." },
    ]),
  },
);
