import os from "node:os";
import path from "node:path";
import { connectDocker, dockerEndpoint, engineVersion, findImage, type EngineVersion, type ImageFound } from "../adapters/docker/engine.ts";
import { checkGithubAuth, type GithubAuthInput, type GithubAuthResult } from "../adapters/forge/github/auth-check.ts";
import { findGithubToken, type TokenLookup } from "../adapters/forge/github/token.ts";
import { readLocalIssues, type LocalIssues } from "../adapters/forge/local/issue-files.ts";
import { gitVersionOutput, repositoryKind, type RepositoryKind } from "../adapters/git/git-version.ts";
import { ensureRunDir, probeWritable } from "../adapters/run-dir.ts";
import { baseImage, gitCheck, nodeCheck, skipped, squashMergeCheck, summarize, type CheckId, type CheckResult, type DoctorReport } from "../core/doctor/checks.ts";
import { CspaceError } from "../core/errors.ts";
import { runDirFor, socketRoom } from "../core/run-dir.ts";
import { loadConfig, type LoadedConfig } from "./config.ts";

/** A Docker engine as doctor sees it. */
export interface DockerProbe {
  /** Where it is expected, as a user writes it (unix:///var/run/docker.sock). */
  readonly url: string;
  version(): Promise<EngineVersion>;
  image(reference: string): Promise<ImageFound | null>;
}

/** Everything doctor looks at, behind one interface so tests can substitute any part. */
export interface DoctorProbes {
  /** Throws a UserError when DOCKER_HOST is malformed. */
  openDocker(env: NodeJS.ProcessEnv): DockerProbe;
  gitVersionOutput(): Promise<string | null>;
  nodeVersion(): string;
  loadConfig(options: { cwd: string; env: NodeJS.ProcessEnv }): Promise<LoadedConfig>;
  localIssues(issuesDir: string, projectDir: string): Promise<LocalIssues>;
  repositoryKind(dir: string): Promise<RepositoryKind>;
  findGithubToken(env: NodeJS.ProcessEnv, apiUrl?: string): Promise<TokenLookup>;
  checkGithubAuth(input: GithubAuthInput): Promise<GithubAuthResult>;
  host(): { uid: number | undefined; tmpdir: string; platform: string };
  /** Creates the run directory (mode 0700) and proves it writable; throws an ExternalError otherwise. */
  prepareRunDir(dir: string): Promise<void>;
}

/** A dead socket or a silent TCP host must not hold doctor up. */
export const ENGINE_TIMEOUT_MS = 3_000;
export const GITHUB_TIMEOUT_MS = 10_000;

export const systemProbes: DoctorProbes = {
  openDocker(env) {
    const endpoint = dockerEndpoint(env);
    const docker = connectDocker(endpoint, { timeoutMs: ENGINE_TIMEOUT_MS });
    return {
      url: endpoint.url,
      version: () => engineVersion(docker, endpoint, ENGINE_TIMEOUT_MS),
      image: (reference) => findImage(docker, reference, ENGINE_TIMEOUT_MS),
    };
  },
  gitVersionOutput,
  nodeVersion: () => process.versions.node,
  loadConfig,
  localIssues: readLocalIssues,
  repositoryKind,
  findGithubToken,
  checkGithubAuth,
  host: () => ({ uid: process.getuid?.(), tmpdir: os.tmpdir(), platform: process.platform }),
  prepareRunDir: async (dir) => {
    await ensureRunDir(dir);
    await probeWritable(dir);
  },
};

export interface DoctorOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
}

/** Runs every check (independent ones concurrently) and reports them in a fixed order. */
export async function runDoctor(options: DoctorOptions, probes: DoctorProbes = systemProbes): Promise<DoctorReport> {
  const groups = await Promise.all([
    dockerChecks(options.env, probes),
    guard("git", "git", () => probes.gitVersionOutput().then(gitCheck)),
    Promise.resolve([nodeCheck(probes.nodeVersion())]),
    projectChecks(options, probes),
  ]);
  return summarize(groups.flat());
}

async function dockerChecks(env: NodeJS.ProcessEnv, probes: DoctorProbes): Promise<CheckResult[]> {
  const engineBase = { id: "docker-engine", title: "Docker engine", required: true } as const;
  const imageBase = { id: "base-image", title: "Base image", required: true } as const;
  let docker: DockerProbe;
  let engine: EngineVersion;
  try {
    docker = probes.openDocker(env);
    engine = await docker.version();
  } catch (error) {
    if (!(error instanceof CspaceError)) throw error;
    const dockerHost = env.DOCKER_HOST ?? "";
    const hint =
      "Start the engine: `bash scripts/prepare-machine.sh` on a cspace test machine, else start Docker Desktop or `sudo systemctl start docker`." +
      (dockerHost === "" ? "" : ` DOCKER_HOST is set to ${dockerHost}: check it, or unset it to use the default socket.`);
    return [
      { ...engineBase, status: "fail", detail: error.message, hint: error.hint ?? hint },
      skipped(imageBase.id, imageBase.title, imageBase.required, "the Docker engine is unreachable"),
    ];
  }
  const engineResult: CheckResult = { ...engineBase, status: "pass", detail: `Docker ${engine.version} (API ${engine.apiVersion}) at ${docker.url}` };
  const imageResult = await guard(imageBase.id, imageBase.title, async (): Promise<CheckResult> => {
    const image = await docker.image(baseImage);
    if (image !== null) return { ...imageBase, status: "pass", detail: `${baseImage} (${shortId(image.id)}, ${megabytes(image.sizeBytes)})` };
    return { ...imageBase, status: "fail", detail: `${baseImage} is not in the engine`, hint: "Build it offline with `bash scripts/prepare-machine.sh` (in a cspace checkout)." };
  });
  return [engineResult, imageResult];
}

async function projectChecks(options: DoctorOptions, probes: DoctorProbes): Promise<CheckResult[]> {
  const configBase = { id: "config", title: "Configuration", required: true } as const;
  let loaded: LoadedConfig;
  try {
    loaded = await probes.loadConfig({ cwd: options.cwd, env: options.env });
  } catch (error) {
    if (!(error instanceof CspaceError)) throw error;
    const hint = error.hint ?? "Fix the keys named above; `cspace doctor` checks again.";
    const because = "the configuration is invalid";
    return [
      { ...configBase, status: "fail", detail: error.message, hint },
      skipped("forge", "Forge", true, because),
      skipped("run-dir", "Run directory", true, because),
    ];
  }
  const config: CheckResult =
    loaded.files.length === 0
      ? { ...configBase, status: "pass", detail: `no .cspace.json; using defaults (project "${loaded.config.project.name}")`, hint: "Run `cspace init` to write a starting config." }
      : {
          ...configBase,
          status: "pass",
          detail: `project "${loaded.config.project.name}" from ${loaded.files.map((file) => path.relative(loaded.projectDir, file)).join(" + ")}`,
        };
  const [forge, runDir] = await Promise.all([
    forgeChecks(loaded, options.env, probes),
    guard("run-dir", "Run directory", () => runDirCheck(loaded, options.env, probes)),
  ]);
  return [config, ...forge, runDir];
}

async function runDirCheck(loaded: LoadedConfig, env: NodeJS.ProcessEnv, probes: DoctorProbes): Promise<CheckResult> {
  const base = { id: "run-dir", title: "Run directory", required: true } as const;
  const host = probes.host();
  const runDir = runDirFor({ env, projectName: loaded.config.project.name, projectDir: loaded.projectDir, uid: host.uid, tmpdir: host.tmpdir });
  const where = `${runDir.path} (${runDir.source === "tmpdir" ? "in the temporary directory" : `from ${runDir.source}`})`;
  const room = socketRoom(runDir.path, host.platform);
  if (!room.fits) {
    return {
      ...base,
      status: "fail",
      detail: `${where}: socket paths there would be up to ${room.longest} bytes; the limit is ${room.max}`,
      hint: "Set CSPACE_RUN_DIR to a shorter directory, like /tmp/cspace-run.",
    };
  }
  try {
    await probes.prepareRunDir(runDir.path);
  } catch (error) {
    if (!(error instanceof CspaceError)) throw error;
    return { ...base, status: "fail", detail: error.message, hint: "Set CSPACE_RUN_DIR to a directory of your own that you can write." };
  }
  return { ...base, status: "pass", detail: `${where} is writable` };
}

async function forgeChecks(loaded: LoadedConfig, env: NodeJS.ProcessEnv, probes: DoctorProbes): Promise<CheckResult[]> {
  const forge = loaded.config.forge;
  switch (forge.type) {
    case "local":
      return [await guard("forge", forgeTitle(forge), () => localForgeCheck(loaded.projectDir, forge, probes))];
    case "github": {
      let squash: CheckResult = skipped("squash-merge", "Squash merges", true, `${forge.repo} could not be read`);
      const signIn = await guard("forge", forgeTitle(forge), async () => {
        const result = await githubForgeCheck(forge, env, probes);
        if (result.allowSquashMerge !== undefined) squash = squashMergeCheck(forge.repo, result.allowSquashMerge);
        return result.check;
      });
      return [signIn, squash];
    }
  }
}

async function localForgeCheck(projectDir: string, forge: { issuesDir: string; remote?: string | undefined }, probes: DoctorProbes): Promise<CheckResult> {
  const base = { id: "forge", title: forgeTitle({ type: "local" }), required: true } as const;
  const { issues, ignored } = await probes.localIssues(path.resolve(projectDir, forge.issuesDir), projectDir);
  const parts = [`${forge.issuesDir}: ${issues.length === 1 ? "1 issue" : `${issues.length} issues`}`];
  if (forge.remote !== undefined) {
    const remote = path.resolve(projectDir, forge.remote);
    const kind = await probes.repositoryKind(remote);
    if (kind !== "bare") {
      const what = kind === "worktree" ? "a repository with a working tree, not a bare one" : "not a git repository";
      return { ...base, status: "fail", detail: `forge.remote ${forge.remote} is ${what}`, hint: `Create one with \`git init --bare ${forge.remote}\`, or point forge.remote at a bare repository.` };
    }
    parts.push(`remote ${forge.remote} (bare)`);
  }
  if (ignored.length > 0) {
    return { ...base, status: "warn", detail: `${parts.join("; ")}; ignored ${ignored.join(", ")}`, hint: "Issue files are named <number>.md; rename or remove the others." };
  }
  return { ...base, status: "pass", detail: parts.join("; ") };
}

/** The sign-in check and, once the repository was read, what it says about squash merges (undefined when it could not be read). */
async function githubForgeCheck(
  forge: { repo: string; apiUrl?: string | undefined },
  env: NodeJS.ProcessEnv,
  probes: DoctorProbes,
): Promise<{ check: CheckResult; allowSquashMerge?: boolean | null }> {
  const base = { id: "forge", title: forgeTitle({ type: "github", repo: forge.repo }), required: true } as const;
  const lookup = await probes.findGithubToken(env, forge.apiUrl);
  if (!lookup.found) {
    const gh = lookup.gh === "missing" ? "gh is not installed" : "gh is not logged in";
    return { check: { ...base, status: "fail", detail: `no GitHub token: GH_TOKEN and GITHUB_TOKEN are unset and ${gh}`, hint: "Export GH_TOKEN with a token that can read and push to the repository, or run `gh auth login`." } };
  }
  const auth = await probes.checkGithubAuth({ token: lookup.token, repo: forge.repo, apiUrl: forge.apiUrl, timeoutMs: GITHUB_TIMEOUT_MS });
  const who = auth.login === null ? `token from ${lookup.source}` : `signed in as ${auth.login} (token from ${lookup.source})`;
  if (!auth.ok) {
    return { check: { ...base, status: "fail", detail: `${who}: ${auth.reason}`, hint: `Check the network, forge.apiUrl and forge.repo, and that the token from ${lookup.source} is valid and can read ${forge.repo}.` } };
  }
  const repo = `${auth.repo.fullName} reachable (${auth.repo.private ? "private" : "public"})`;
  const allowSquashMerge = auth.repo.allowSquashMerge;
  if (!auth.repo.canPush) {
    return { check: { ...base, status: "warn", detail: `${who}; ${repo} but without push access`, hint: "cspace pushes branches and merges pull requests: use a token with write access." }, allowSquashMerge };
  }
  return { check: { ...base, status: "pass", detail: `${who}; ${repo} with push access` }, allowSquashMerge };
}

/** Runs one check; an outside system or the user's input failing becomes a failed check, not a crash. */
async function guard(id: CheckId, title: string, task: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await task();
  } catch (error) {
    if (!(error instanceof CspaceError)) throw error;
    return { id, title, status: "fail", required: true, detail: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) };
  }
}

function forgeTitle(forge: { type: "local" } | { type: "github"; repo: string }): string {
  return forge.type === "local" ? "Forge (local)" : `Forge (GitHub ${forge.repo})`;
}

function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

function megabytes(bytes: number): string {
  return `${Math.round(bytes / 1_000_000)} MB`;
}
