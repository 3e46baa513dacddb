import { execFileSync } from "node:child_process";
import path from "node:path";
import { PassThrough } from "node:stream";
import type Docker from "dockerode";
import { afterEach, describe, expect, inject, it } from "vitest";
import { openBranchMover } from "../../src/adapters/coordinate/open-branch-mover.ts";
import { GitWorkspaces } from "../../src/adapters/git/workspaces.ts";
import { LABELS } from "../../src/core/instances/labels.ts";
import { STORE_IN_CONTAINER } from "../../src/core/instances/ports.ts";
import { projectId } from "../../src/core/run-dir.ts";
import { runCli, type CliResult } from "../support/cli.ts";
import { testDocker } from "../support/docker.ts";
import { containersOf } from "../support/fixture-instances.ts";
import { makeFixtureRepo, nonRootDockerfile, type FixtureRepo } from "../support/fixture-repo.ts";

/**
 * A prompt-injected agent, root in its own container, rewrites every git
 * object file it can reach: its checkout's, and the project's object store
 * that every checkout reads. Checkouts used to hard-link the store's pack
 * files, so a blob rewritten in one worker was read by the store and by
 * every other worker. Now each checkout's object files are its own and the
 * store is only mounted read-only: the other worker, the store and the
 * forge keep the original content.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const repos: FixtureRepo[] = [];

afterEach(async () => {
  for (const repo of repos.splice(0)) {
    const left = await containersOf(docker, repo);
    await Promise.all(left.map((id) => docker.getContainer(id).remove({ force: true })));
    await repo.remove();
  }
});

function cli(repo: FixtureRepo, args: readonly string[]): CliResult {
  return runCli(["--cwd", repo.dir, ...args], { env: repo.env });
}

/** Runs `script` with /bin/sh in the container as `user`; exit code and output. */
async function execAs(container: Docker.Container, user: string, script: string): Promise<{ exitCode: number; output: string }> {
  const exec = await container.exec({ Cmd: ["/bin/sh", "-c", script], User: user, AttachStdout: true, AttachStderr: true, WorkingDir: "/workspaces/repo" });
  const stream = await exec.start({ hijack: true, stdin: false });
  const chunks: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    const sink = new PassThrough();
    sink.on("data", (chunk: Buffer) => chunks.push(chunk));
    docker.modem.demuxStream(stream, sink, sink);
    stream.on("end", resolve);
    stream.on("error", reject);
  });
  const inspected = await exec.inspect();
  return { exitCode: inspected.ExitCode ?? -1, output: Buffer.concat(chunks).toString("utf8") };
}

/** What an injected agent with root would run: make every object file writable, then overwrite its start and append to it. */
const TAMPER = [
  "mount -o remount,rw " + STORE_IN_CONTAINER + " 2>/dev/null",
  `for f in $(find /workspaces/repo/.git/objects ${STORE_IN_CONTAINER}/objects -type f); do`,
  '  chmod a+w "$f" 2>/dev/null',
  '  printf "PLANTED" | dd of="$f" conv=notrunc status=none 2>/dev/null',
  '  printf "planted code\\n" >> "$f" 2>/dev/null && echo "wrote $f"',
  "done",
  "true",
].join("\n");

describe("a worker that rewrites git objects as root", () => {
  it("changes no other worker's objects, nor the store's, nor the forge's", { timeout: 240_000 }, async () => {
    const repo = await makeFixtureRepo({
      projectName: `hostile-objects-${runId}`.slice(0, 60),
      devcontainer: { build: { dockerfile: "../image/Dockerfile", context: "../image" }, remoteUser: "dev" },
      files: { "image/Dockerfile": nonRootDockerfile(runId), "src/app.js": "console.log('original');\n" },
      config: { forge: { type: "local", remote: "../remote.git" } },
    });
    repos.push(repo);
    const remote = path.join(path.dirname(repo.dir), "remote.git");
    execFileSync("git", ["clone", "--quiet", "--bare", repo.dir, remote]);
    const id = projectId(repo.projectName, repo.dir);
    const store = new GitWorkspaces({ projectDir: repo.dir, dataDir: repo.dataDir, projectId: id }).storePath;
    const gitIn = (gitDir: string, ...args: string[]): string => execFileSync("git", ["--git-dir", gitDir, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();

    const warmed = cli(repo, ["warm", "a", "b", "--json"]);
    expect(warmed.status, warmed.stderr).toBe(0);
    // Each worker commits something of its own, as an agent does: loose objects in its own checkout.
    for (const instance of ["a", "b"]) {
      const committed = cli(repo, ["exec", instance, "--", "sh", "-c", `echo ${instance} > ${instance}.txt && git add ${instance}.txt && git commit -qm ${instance}`]);
      expect(committed.status, committed.stderr).toBe(0);
    }

    const [a] = await docker.listContainers({ all: true, filters: { label: [`${LABELS.project}=${id}`, `${LABELS.instance}=a`] } });
    if (a === undefined) throw new Error("instance a has no container");
    const attack = await execAs(docker.getContainer(a.Id), "root", TAMPER);
    expect(attack.exitCode).toBe(0);
    // The attack reached its own checkout's objects, and not one file of the store.
    expect(attack.output).toMatch(/wrote \/workspaces\/repo\/\.git\/objects\//);
    expect(attack.output).not.toContain(`wrote ${STORE_IN_CONTAINER}`);

    // The other worker reads the original content and its repository is whole.
    const inB = cli(repo, ["exec", "b", "--", "sh", "-c", "git cat-file -p HEAD:src/app.js && git cat-file -p HEAD:b.txt && git fsck --no-dangling && echo whole"]);
    expect([inB.status, inB.stdout], inB.stderr).toEqual([0, "console.log('original');\nb\nwhole\n"]);
    // So does the store on the host.
    expect(gitIn(store, "cat-file", "-p", `${repo.head}:src/app.js`)).toBe("console.log('original');");
    expect(gitIn(store, "fsck", "--no-dangling")).toBe("");

    // The host takes the tampered worker's branch from its own copy: the corrupt objects are refused, not published.
    const mover = await openBranchMover({ settings: { type: "local", issuesDir: ".cspace/issues", remote: "../remote.git" }, projectDir: repo.dir, env: repo.env, projectId: id });
    await expect(mover.push({ instance: "a", branch: "a", expectedRemoteSha: null })).rejects.toThrow();
    const pushedB = await mover.push({ instance: "b", branch: "b", expectedRemoteSha: null });
    expect(gitIn(remote, "for-each-ref", "--format=%(refname:short)", "refs/heads/")).toBe("b\nmain");
    expect(gitIn(remote, "cat-file", "-p", `${pushedB}:src/app.js`)).toBe("console.log('original');");
    expect(gitIn(remote, "fsck", "--no-dangling")).toBe("");
    expect(gitIn(store, "fsck", "--no-dangling")).toBe("");

    const down = cli(repo, ["down", "--all"]);
    expect(down.status, down.stderr).toBe(0);
  });
});
