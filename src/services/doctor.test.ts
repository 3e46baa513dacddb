import { describe, expect, it } from "vitest";
import { configSchema, type Config } from "../core/config/schema.ts";
import type { CheckId, CheckResult, DoctorReport } from "../core/doctor/checks.ts";
import { ExternalError, UserError } from "../core/errors.ts";
import { runDoctor, type DockerProbe, type DoctorProbes } from "./doctor.ts";

function config(input: unknown = {}): Config {
  const parsed = configSchema.parse(input);
  return { ...parsed, project: { name: parsed.project.name ?? "demo" } };
}

const engineUp: DockerProbe = {
  url: "unix:///var/run/docker.sock",
  version: () => Promise.resolve({ version: "20.10.24", apiVersion: "1.41", os: "linux", arch: "amd64" }),
  image: () => Promise.resolve({ id: "sha256:8eab8b6af0b2aaaa", sizeBytes: 443_000_000, created: "2024-01-01" }),
};

/** Every probe answering as on a ready machine; each test breaks one thing. */
function healthy(overrides: Partial<DoctorProbes> = {}): DoctorProbes {
  return {
    openDocker: () => engineUp,
    gitVersionOutput: () => Promise.resolve("git version 2.39.5"),
    nodeVersion: () => "24.1.0",
    loadConfig: () => Promise.resolve({ config: config({ project: { name: "demo" } }), projectDir: "/p/demo", files: ["/p/demo/.cspace.json"] }),
    localIssues: () => Promise.resolve({ issues: [], ignored: [] }),
    repositoryKind: () => Promise.resolve("bare"),
    findGithubToken: () => Promise.resolve({ found: true, token: "secret-token", source: "GITHUB_TOKEN" }),
    checkGithubAuth: () => Promise.resolve({ ok: true, login: "ada", repo: { fullName: "acme/app", private: true, canPush: true, allowSquashMerge: true } }),
    host: () => ({ uid: 1000, tmpdir: "/tmp", platform: "linux" }),
    prepareRunDir: () => Promise.resolve(),
    ...overrides,
  };
}

const options = { cwd: "/p/demo", env: {} };

function check(report: DoctorReport, id: CheckId): CheckResult {
  const found = report.checks.find((candidate) => candidate.id === id);
  if (found === undefined) throw new Error(`no ${id} check in the report`);
  return found;
}

describe("runDoctor", () => {
  it("passes every check on a ready machine, in a fixed order", async () => {
    const report = await runDoctor(options, healthy());
    expect(report.ok).toBe(true);
    expect(report.checks.map((c) => [c.id, c.status])).toEqual([
      ["docker-engine", "pass"],
      ["base-image", "pass"],
      ["git", "pass"],
      ["node", "pass"],
      ["config", "pass"],
      ["forge", "pass"],
      ["run-dir", "pass"],
    ]);
    expect(check(report, "docker-engine").detail).toBe("Docker 20.10.24 (API 1.41) at unix:///var/run/docker.sock");
    expect(check(report, "base-image").detail).toBe("cspace-base:bookworm (8eab8b6af0b2, 443 MB)");
    expect(check(report, "config").detail).toBe('project "demo" from .cspace.json');
  });

  it("runs independent checks concurrently", async () => {
    let gitAsked!: () => void;
    const gitCalled = new Promise<void>((resolve) => (gitAsked = resolve));
    // The engine only answers once git has been asked: sequential checks would never finish.
    const slowEngine: DockerProbe = { ...engineUp, version: () => gitCalled.then(() => engineUp.version()) };
    const report = await runDoctor(options, healthy({
      openDocker: () => slowEngine,
      gitVersionOutput: () => {
        gitAsked();
        return Promise.resolve("git version 2.40.0");
      },
    }));
    expect(report.ok).toBe(true);
  });

  it("fails the engine with a hint naming DOCKER_HOST, and skips the image", async () => {
    const down: DockerProbe = {
      ...engineUp,
      url: "unix:///tmp/x/nothing.sock",
      version: () => Promise.reject(new ExternalError("no Docker engine at unix:///tmp/x/nothing.sock: the socket does not exist")),
    };
    const report = await runDoctor({ ...options, env: { DOCKER_HOST: "unix:///tmp/x/nothing.sock" } }, healthy({ openDocker: () => down }));
    expect(report.ok).toBe(false);
    expect(check(report, "docker-engine")).toMatchObject({ status: "fail", detail: expect.stringContaining("the socket does not exist") as unknown });
    expect(check(report, "docker-engine").hint).toMatch(/prepare-machine\.sh.*DOCKER_HOST is set to unix:\/\/\/tmp\/x\/nothing\.sock/);
    expect(check(report, "base-image")).toMatchObject({ status: "skip", detail: "not checked: the Docker engine is unreachable" });
  });

  it("fails a missing base image with the command that builds it", async () => {
    const report = await runDoctor(options, healthy({ openDocker: () => ({ ...engineUp, image: () => Promise.resolve(null) }) }));
    expect(report.ok).toBe(false);
    expect(check(report, "base-image")).toMatchObject({ status: "fail", detail: "cspace-base:bookworm is not in the engine" });
    expect(check(report, "base-image").hint).toContain("bash scripts/prepare-machine.sh");
  });

  it("requires git 2.38 and Node 22.13", async () => {
    const report = await runDoctor(options, healthy({ gitVersionOutput: () => Promise.resolve("git version 2.37.9"), nodeVersion: () => "22.12.0" }));
    expect(report.ok).toBe(false);
    expect(check(report, "git")).toMatchObject({ status: "fail", detail: expect.stringContaining("git 2.37.9 is older than 2.38") as unknown });
    expect(check(report, "node")).toMatchObject({ status: "fail", detail: "Node.js 22.12.0 is older than 22.13" });
    const missing = await runDoctor(options, healthy({ gitVersionOutput: () => Promise.resolve(null) }));
    expect(check(missing, "git")).toMatchObject({ status: "fail", detail: "git is not on PATH" });
    const newer = await runDoctor(options, healthy({ gitVersionOutput: () => Promise.resolve("git version 2.38.0.windows.1"), nodeVersion: () => "22.13.0" }));
    expect([check(newer, "git").status, check(newer, "node").status]).toEqual(["pass", "pass"]);
  });

  it("fails an invalid config with its message and skips what needs it", async () => {
    const problem = new UserError('.cspace.json: coordinator.maxParallel: got "four" — expected an integer ≥ 1');
    const report = await runDoctor(options, healthy({ loadConfig: () => Promise.reject(problem) }));
    expect(report.ok).toBe(false);
    expect(check(report, "config")).toMatchObject({ status: "fail", detail: problem.message });
    expect(check(report, "forge").status).toBe("skip");
    expect(check(report, "run-dir").status).toBe("skip");
  });

  it("passes without a config file, suggesting cspace init", async () => {
    const report = await runDoctor(options, healthy({ loadConfig: () => Promise.resolve({ config: config(), projectDir: "/p/demo", files: [] }) }));
    expect(check(report, "config")).toMatchObject({ status: "pass", detail: 'no .cspace.json; using defaults (project "demo")' });
    expect(check(report, "config").hint).toContain("cspace init");
  });

  it("checks the local forge's issues directory and that its remote is bare", async () => {
    const withRemote = config({ forge: { type: "local", remote: "../remote.git" } });
    const loadConfig = () => Promise.resolve({ config: withRemote, projectDir: "/p/demo", files: ["/p/demo/.cspace.json"] });
    const asked: string[] = [];
    const ok = await runDoctor(options, healthy({ loadConfig, repositoryKind: (dir) => (asked.push(dir), Promise.resolve("bare")) }));
    expect(check(ok, "forge")).toMatchObject({ status: "pass", detail: ".cspace/issues: 0 issues; remote ../remote.git (bare)" });
    expect(asked).toEqual(["/p/remote.git"]);
    const notBare = await runDoctor(options, healthy({ loadConfig, repositoryKind: () => Promise.resolve("worktree") }));
    expect(check(notBare, "forge")).toMatchObject({ status: "fail", detail: "forge.remote ../remote.git is a repository with a working tree, not a bare one" });
    expect(check(notBare, "forge").hint).toContain("git init --bare ../remote.git");
    const missingIssues = await runDoctor(options, healthy({ localIssues: () => Promise.reject(new UserError("no issues directory at .cspace/issues", { hint: "Run `cspace init`." })) }));
    expect(check(missingIssues, "forge")).toMatchObject({ title: "Forge (local)", status: "fail", detail: "no issues directory at .cspace/issues", hint: "Run `cspace init`." });
  });

  describe("with the GitHub forge", () => {
    const github = config({ forge: { type: "github", repo: "acme/app" } });
    const loadConfig = () => Promise.resolve({ config: github, projectDir: "/p/demo", files: ["/p/demo/.cspace.json"] });

    it("reports who signed in and where the token came from, never the token", async () => {
      const report = await runDoctor(options, healthy({ loadConfig }));
      expect(check(report, "forge")).toMatchObject({
        title: "Forge (GitHub acme/app)",
        status: "pass",
        detail: "signed in as ada (token from GITHUB_TOKEN); acme/app reachable (private) with push access",
      });
      expect(JSON.stringify(report)).not.toContain("secret-token");
    });

    it("checks that the repository allows squash merges, failing with where to allow them", async () => {
      const allowed = await runDoctor(options, healthy({ loadConfig }));
      expect(allowed.checks.map((c) => c.id)).toEqual(["docker-engine", "base-image", "git", "node", "config", "forge", "squash-merge", "run-dir"]);
      expect(check(allowed, "squash-merge")).toMatchObject({ title: "Squash merges", status: "pass", required: true, detail: "acme/app allows squash merging" });

      const auth = (allowSquashMerge: boolean | null) => () =>
        Promise.resolve({ ok: true as const, login: "ada", repo: { fullName: "acme/app", private: true, canPush: true, allowSquashMerge } });
      const refused = await runDoctor(options, healthy({ loadConfig, checkGithubAuth: auth(false) }));
      expect(refused.ok).toBe(false);
      expect(check(refused, "squash-merge")).toMatchObject({ status: "fail", detail: "acme/app does not allow squash merging; cspace merges every pull request as a squash" });
      expect(check(refused, "squash-merge").hint).toContain('"Allow squash merging" in Settings → General → Pull Requests on https://github.com/acme/app');

      const unknown = await runDoctor(options, healthy({ loadConfig, checkGithubAuth: auth(null) }));
      expect(unknown.ok).toBe(true);
      expect(check(unknown, "squash-merge")).toMatchObject({ status: "warn", detail: expect.stringContaining("GitHub did not say") as unknown });
    });

    it("skips the squash-merge check when the repository cannot be read", async () => {
      const none = await runDoctor(options, healthy({ loadConfig, findGithubToken: () => Promise.resolve({ found: false, gh: "logged-out" }) }));
      expect(check(none, "squash-merge")).toMatchObject({ status: "skip", detail: "not checked: acme/app could not be read" });
      const local = await runDoctor(options, healthy());
      expect(local.checks.map((c) => c.id)).not.toContain("squash-merge");
    });

    it("fails without a token, or when the repository cannot be reached", async () => {
      const none = await runDoctor(options, healthy({ loadConfig, findGithubToken: () => Promise.resolve({ found: false, gh: "missing" }) }));
      expect(check(none, "forge")).toMatchObject({ status: "fail", detail: "no GitHub token: GH_TOKEN and GITHUB_TOKEN are unset and gh is not installed" });
      expect(check(none, "forge").hint).toContain("GH_TOKEN");
      const unreachable = await runDoctor(options, healthy({
        loadConfig,
        checkGithubAuth: () => Promise.resolve({ ok: false, login: "ada", reason: "repository acme/app is not found, or ada has no access to it" }),
      }));
      expect(unreachable.ok).toBe(false);
      expect(check(unreachable, "forge").detail).toBe("signed in as ada (token from GITHUB_TOKEN): repository acme/app is not found, or ada has no access to it");
    });
  });

  it("fails a run directory too long for socket paths, before creating it", async () => {
    const created: string[] = [];
    const report = await runDoctor(
      { ...options, env: { CSPACE_RUN_DIR: `/tmp/${"long".repeat(10)}` } },
      healthy({ prepareRunDir: (dir) => (created.push(dir), Promise.resolve()) }),
    );
    expect(check(report, "run-dir")).toMatchObject({ status: "fail", detail: expect.stringMatching(/up to 114 bytes; the limit is 107$/) as unknown });
    expect(check(report, "run-dir").hint).toContain("CSPACE_RUN_DIR");
    expect(created).toEqual([]);
  });

  it("fails a run directory that cannot be written", async () => {
    const report = await runDoctor(options, healthy({ prepareRunDir: (dir) => Promise.reject(new ExternalError(`cannot write in the run directory ${dir}: EACCES`)) }));
    expect(report.ok).toBe(false);
    expect(check(report, "run-dir")).toMatchObject({ status: "fail", detail: expect.stringMatching(/^cannot write in the run directory \/tmp\/cspace-1000\/demo-[0-9a-f]{8}: EACCES$/) as unknown });
  });
});
