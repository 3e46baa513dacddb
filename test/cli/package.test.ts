import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../support/cli.ts";

/**
 * What `npm publish` would ship, read from `npm pack --dry-run` over the
 * build (the cli lane runs after `npm run build`). The bundles' source maps
 * serve development (test/unit/startup/lean-paths.test.ts reads them); the
 * published CLI never enables them, so they would only double its size.
 */
describe("the published package", () => {
  it("holds the MIT licence package.json declares, the built CLI, and no source maps", () => {
    const [pack] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: repoRoot, encoding: "utf8" })) as { files: { path: string }[] }[];
    const files = (pack?.files ?? []).map((file) => file.path);
    expect(files).toContain("LICENSE");
    expect(files).toContain("dist/cli/main.js");
    expect(files.filter((file) => file.endsWith(".map"))).toEqual([]);
  }, 60_000);
});
