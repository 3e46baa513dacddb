import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { repoRoot } from "./cli.ts";

/**
 * The files of a worker image (under `image/` in a fixture repository, for
 * `build: { dockerfile: "../image/Dockerfile", context: "../image" }`) built
 * from the base image with a non-root user `dev` and the Claude Code
 * stand-in (test/fixtures/agents): on PATH as `claude` (`installed`), or
 * only installable by the image's `npm`, itself a stand-in that records its
 * calls in /var/log/npm-calls and links the stand-in onto PATH.
 */
export async function claudeImageFiles(runId: string, options: { readonly installed: boolean }): Promise<Record<string, string>> {
  const agents = path.join(repoRoot, "test", "fixtures", "agents");
  const setUp = options.installed ? "ln -s /opt/standin/claude /usr/local/bin/claude" : "ln -s /opt/standin/npm /usr/local/bin/npm";
  const files: Record<string, string> = {
    "image/Dockerfile": [
      "FROM cspace-base:bookworm",
      "RUN useradd --create-home --uid 1000 --shell /bin/sh dev && mkdir -p /workspaces && chown 1000:1000 /workspaces",
      "COPY standin/ /opt/standin/",
      `RUN chmod 0755 /opt/standin/claude /opt/standin/npm && ${setUp}`,
      `LABEL dev.cspace.test=${runId}`,
      "",
    ].join("\n"),
    "image/standin/npm": NPM_STANDIN,
    "image/standin/claude": await readFile(path.join(agents, "claude"), "utf8"),
  };
  for (const name of await readdir(path.join(agents, "standins"))) files[`image/standin/standins/${name}`] = await readFile(path.join(agents, "standins", name), "utf8");
  return files;
}

export const CLAUDE_IMAGE_DEVCONTAINER = { build: { dockerfile: "../image/Dockerfile", context: "../image" }, remoteUser: "dev" } as const;

const NPM_STANDIN = [
  "#!/bin/sh",
  "# Stand-in for npm: `npm install --global … <spec>` puts the claude stand-in on PATH; every call is recorded.",
  'echo "$*" >> /var/log/npm-calls',
  'case "$1" in',
  "  install) ln -sf /opt/standin/claude /usr/local/bin/claude ;;",
  "  prefix) echo /usr/local ;;",
  "  *) exit 1 ;;",
  "esac",
  "",
].join("\n");
