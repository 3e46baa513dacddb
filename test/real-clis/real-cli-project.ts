import { execFileSync } from "node:child_process";
import { chmod, copyFile, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, inject } from "vitest";
import { repoRoot } from "../support/cli.ts";
import { makeCoordinateProject, type CoordinateProject, type CoordinateProjectOptions } from "../support/coordinate-project.ts";
import { testDocker } from "../support/docker.ts";
import { modelServerFile, type LogEntry } from "../support/model-server/index.ts";

/**
 * A local-forge project whose workers run a real agent CLI (the versions in
 * pinned-clis.json, in the image scripts/prepare-agent-clis.sh builds) against
 * the scripted model server on the worker's own loopback. Workers have no
 * network at all (`container.network: "none"`): nothing a test does can
 * leave the machine, and a CLI that tried would fail the test.
 *
 * The server and its logs live in a host directory bind-mounted at
 * /opt/model-server; postStartCommand starts one server per container, which
 * logs to `log-<hostname>.ndjson`, and writes each CLI's own configuration
 * file (codex's config.toml, gemini's settings.json) into the user's home.
 */

export type RealCli = "claude" | "codex" | "gemini" | "opencode";

/** The model server's port on each worker's loopback. */
const PORT = 8790;
const SERVER = `http://127.0.0.1:${String(PORT)}`;
export const MOUNT = "/opt/model-server";

/**
 * The image with the pinned CLIs: built (or found) by the idempotent prepare
 * script, which CI runs after prepare-machine.sh; seconds when it is cached.
 */
export function agentClisImage(): string {
  const out = execFileSync("bash", [path.join(repoRoot, "scripts", "prepare-agent-clis.sh")], { cwd: repoRoot, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const image = out.trim().split("\n").at(-1) ?? "";
  if (!image.startsWith("cspace-agent-clis:")) throw new Error(`scripts/prepare-agent-clis.sh printed no image name: ${out}`);
  return image;
}

/** What each CLI needs to talk to the server and nothing else (../shared/notes/real-agents.md). */
const AGENT_ENV: Readonly<Record<RealCli, Readonly<Record<string, string>>>> = {
  claude: {
    ANTHROPIC_BASE_URL: SERVER,
    ANTHROPIC_API_KEY: "sk-test-offline",
    DISABLE_TELEMETRY: "1",
    DISABLE_AUTOUPDATER: "1",
    DISABLE_ERROR_REPORTING: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    // Its default of ten retries turns one scripted failure into minutes of backoff.
    CLAUDE_CODE_MAX_RETRIES: "2",
  },
  // OPENAI_BASE_URL is not honoured by codex's default provider: the custom one in config.toml is.
  codex: { OPENAI_API_KEY: "sk-test-offline" },
  gemini: { GEMINI_API_KEY: "test-offline", GOOGLE_GEMINI_BASE_URL: SERVER },
  opencode: {
    ANTHROPIC_API_KEY: "sk-test-offline",
    OPENCODE_CONFIG_CONTENT: JSON.stringify({
      model: "anthropic/claude-sonnet-4-5",
      provider: { anthropic: { options: { baseURL: `${SERVER}/v1`, apiKey: "sk-test-offline" } } },
    }),
    OPENCODE_DISABLE_MODELS_FETCH: "1",
    OPENCODE_DISABLE_AUTOUPDATE: "1",
    OPENCODE_DISABLE_DEFAULT_PLUGINS: "1",
  },
};

const CODEX_CONFIG = [
  'model_provider = "scripted"',
  'model = "gpt-5-codex"',
  "check_for_update_on_startup = false",
  "",
  "[model_providers.scripted]",
  'name = "scripted model server"',
  `base_url = "${SERVER}/v1"`,
  'env_key = "OPENAI_API_KEY"',
  'wire_api = "responses"',
  "supports_websockets = false",
  "",
  "[analytics]",
  "enabled = false",
  "",
].join("\n");

const GEMINI_SETTINGS = JSON.stringify({
  security: { auth: { selectedType: "gemini-api-key" } },
  privacy: { usageStatisticsEnabled: false },
  telemetry: { enabled: false },
});

/**
 * Starts the server in the background (its output to a file, so the
 * lifecycle exec returns) and waits until it answers, so the agent never
 * meets a closed port; then the CLIs' configuration files.
 */
const POST_START = [
  "set -e",
  `log=${MOUNT}/log-$(hostname).ndjson`,
  `nohup node ${MOUNT}/server.mjs --port ${String(PORT)} --log "$log" > ${MOUNT}/out-$(hostname).txt 2>&1 &`,
  `i=0; until node -e 'fetch("${SERVER}/").then(() => process.exit(0), () => process.exit(1))'; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done`,
  `mkdir -p "$HOME/.codex" "$HOME/.gemini"`,
  `cp ${MOUNT}/codex-config.toml "$HOME/.codex/config.toml"`,
  `cp ${MOUNT}/gemini-settings.json "$HOME/.gemini/settings.json"`,
].join("\n");

export interface RealCliProject extends CoordinateProject {
  /** The host directory mounted at /opt/model-server in every worker (the server, its logs, files a step leaves). */
  readonly serverDir: string;
  /** Every request the model servers of this project's workers answered, in the order each server logged them. */
  modelLog(): Promise<readonly LogEntry[]>;
}

export interface RealCliProjectOptions extends Omit<CoordinateProjectOptions, "devcontainer"> {
  readonly cli: RealCli;
  readonly image: string;
}

export async function makeRealCliProject(options: RealCliProjectOptions): Promise<RealCliProject> {
  const serverDir = await mkdtemp(path.join(os.tmpdir(), "cspace-model-server-"));
  // The container user (uid 1000) writes its logs here.
  await chmod(serverDir, 0o777);
  await copyFile(await modelServerFile(), path.join(serverDir, "server.mjs"));
  await writeFile(path.join(serverDir, "codex-config.toml"), CODEX_CONFIG);
  await writeFile(path.join(serverDir, "gemini-settings.json"), GEMINI_SETTINGS);
  const { cli, image, ...rest } = options;
  const project = await makeCoordinateProject(testDocker(), {
    ...rest,
    devcontainer: {
      image,
      remoteUser: "dev",
      mounts: [`source=${serverDir},target=${MOUNT},type=bind`],
      postStartCommand: ["/bin/bash", "-c", POST_START],
    },
    agent: { preset: cli, ...options.agent, env: { ...AGENT_ENV[cli], ...(options.agent?.env as Record<string, string> | undefined) } },
    coordinator: { maxParallel: 2, ...options.coordinator },
    // No network, loopback only: the model server is all a worker can reach.
    container: { network: "none", ...options.container },
  });
  return {
    ...project,
    serverDir,
    modelLog: async () => {
      const logs = (await readdir(serverDir)).filter((name) => name.startsWith("log-")).sort();
      const entries: LogEntry[] = [];
      for (const name of logs) {
        const text = await readFile(path.join(serverDir, name), "utf8");
        for (const line of text.split("\n")) if (line.trim() !== "") entries.push(JSON.parse(line) as LogEntry);
      }
      return entries;
    },
    remove: async () => {
      await project.remove();
      await rm(serverDir, { recursive: true, force: true });
    },
  };
}

/** A test file's project maker: named after the test run, removed after its test. */
export function useRealCliProjects(): (options: RealCliProjectOptions) => Promise<RealCliProject> {
  const runId = inject("cspaceTestRun");
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return async (options) => {
    const made = await makeRealCliProject({ ...options, name: `${options.name}-${runId}` });
    cleanups.push(() => made.remove());
    return made;
  };
}
