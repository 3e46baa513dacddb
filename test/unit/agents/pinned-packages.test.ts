import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { PRESETS } from "../../../src/core/agents/presets/index.ts";

/**
 * The agent CLIs' versions are pinned once, in the presets: cspace's default
 * image installs the same ones, the real-CLI lane runs the same ones, and the README's table names the same ones,
 * so a version bump that forgets one of them fails here.
 */

const root = path.resolve(import.meta.dirname, "../../..");
const pinned = Object.values(PRESETS).flatMap((preset) => (preset.npmPackage === null ? [] : [preset.npmPackage])).sort();

describe("the agent CLIs' pinned npm packages", () => {
  it("are exact versions", () => {
    expect(pinned.length).toBeGreaterThanOrEqual(4);
    for (const spec of pinned) expect(spec).toMatch(/^(@[a-z0-9-]+\/)?[a-z0-9-]+@\d+\.\d+\.\d+$/);
  });

  it("are what cspace's default image installs", () => {
    const dockerfile = readFileSync(path.join(root, ".devcontainer", "Dockerfile"), "utf8");
    const arg = /^ARG AGENT_PACKAGES="([^"]*)"$/m.exec(dockerfile)?.[1] ?? "";
    expect(arg.split(/\s+/).sort()).toEqual(pinned);
  });

  it("are what the real-CLI lane installs and runs (test/real-clis/pinned-clis.json)", () => {
    const lane = JSON.parse(readFileSync(path.join(root, "test", "real-clis", "pinned-clis.json"), "utf8")) as Record<string, unknown>;
    const installed = Object.entries(lane)
      .filter(([key]) => !key.startsWith("$"))
      .map(([name, entry]) => {
        const { package: pkg, version } = entry as { package: string; version: string };
        return [name, `${pkg}@${version}`] as const;
      });
    const presets = Object.entries(PRESETS).flatMap(([name, preset]) => (preset.npmPackage === null ? [] : [[name, preset.npmPackage] as const]));
    // By preset name: a version moved in one place alone, or a package pinned for the wrong preset, fails.
    expect(Object.fromEntries(installed)).toEqual(Object.fromEntries(presets));
  });

  it("are what the README's preset table names", () => {
    const readme = readFileSync(path.join(root, "README.md"), "utf8");
    const named = [...readme.matchAll(/\(npm `([^`]+)`\)/g)].map((match) => match[1]).sort();
    expect(named).toEqual(pinned);
  });
});
