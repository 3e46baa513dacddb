import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runGit } from "../../src/adapters/git/run-git.ts";
import { MIRROR_IN_CONTAINER, type CollectRequest } from "../../src/core/workspaces/transport.ts";
import { WORKER_USER, WORKSPACE, transportWorld, type TransportWorld } from "../support/transport-world.ts";

/**
 * A prompt-injected agent inside a real worker on a host that shares no
 * filesystem with cspace, attacking the collect that brings its branch back
 * (and the mirror every worker of the host clones from). Each attack is made
 * as the agent's user, or as root where an agent that got root in its
 * container could do it; the defences are the transport's own.
 */

const runId = inject("cspaceTestRun");
let world: TransportWorld;
let source = "";
let base = "";

beforeAll(async () => {
  source = await mkdtemp(path.join(os.tmpdir(), "cspace-hostile-collect-"));
  const git = (args: readonly string[]) => runGit(args, { cwd: source, env: { GIT_AUTHOR_NAME: "u", GIT_AUTHOR_EMAIL: "u@x", GIT_COMMITTER_NAME: "u", GIT_COMMITTER_EMAIL: "u@x" } });
  await git(["init", "--quiet", "--initial-branch=main"]);
  await writeFile(path.join(source, "README.md"), "the project\n");
  await git(["add", "README.md"]);
  await git(["commit", "--quiet", "-m", "init"]);
  world = await transportWorld(runId, source);
  base = (await world.git(world.store, ["rev-parse", "HEAD"])).trim();
  await world.transport.prepareHost();
  await world.transport.pushRefs([{ name: "main", sha: base }]);
}, 600_000);

afterAll(async () => {
  await world.remove();
  await rm(source, { recursive: true, force: true });
});

const request = (instance: string, branch: string): CollectRequest => ({ instance, path: WORKSPACE, branch, user: WORKER_USER });

/** What a refused collect must leave in the instance's quarantine: no ref, no object, no temporary pack. */
async function expectNothingKept(instance: string): Promise<void> {
  const quarantine = world.quarantineOf(instance);
  expect(await world.git(quarantine, ["for-each-ref"])).toBe("");
  expect(await world.git(quarantine, ["count-objects", "-v"])).toMatch(/^count: 0\n(.|\n)*in-pack: 0\n/);
  expect(await readdir(path.join(quarantine, "objects", "pack"))).toEqual([]);
}

describe("a hostile worker against the collect of its branch", () => {
  it("(a) a branch larger than the cap is refused and nothing is stored", async () => {
    const { id } = await world.worker("wa", "issue-a", base);
    await world.sh(id, "head -c 3145728 /dev/urandom > big.bin && git add big.bin && git commit --quiet -m big");
    const capped = world.withLimits({ maxBytes: 512 * 1024 });
    await expect(capped.collect(id, request("wa", "issue-a"))).rejects.toThrow(/refused issue-a from wa: the worker sent more than 512 KiB, the cap on what one collect may bring; nothing was kept/);
    await expectNothingKept("wa");
    // The same branch under the default cap: the attack, not the branch, was stopped.
    expect((await world.transport.collect(id, request("wa", "issue-a"))).bytes).toBeGreaterThan(3_000_000);
  });

  it("(b) a malformed commit is refused by the object check, which names it", async () => {
    const { id } = await world.worker("wb", "issue-b", base);
    const bad = (
      await world.sh(
        id,
        `printf 'tree %s\\nparent %s\\nauthor A <a@x> not-a-date\\ncommitter A <a@x> 1 +0000\\n\\nforged\\n' "$(git rev-parse HEAD^{tree})" "$(git rev-parse HEAD)" | git hash-object -t commit -w --literally --stdin`,
      )
    ).trim();
    await world.sh(id, `git update-ref refs/heads/issue-b ${bad}`);
    await expect(world.transport.collect(id, request("wb", "issue-b"))).rejects.toThrow(new RegExp(`refused issue-b from wb: object ${bad} is malformed \\(.+\\); nothing was kept`));
    await expectNothingKept("wb");
  });

  it("(c) other refs the worker advertises (a forged main, tags, a symref) never land: only the explicit branch does", async () => {
    const { id } = await world.worker("wc", "issue-c", base);
    await world.sh(id, "echo work > work.txt && git add work.txt && git commit --quiet -m work");
    await world.sh(id, "git checkout --quiet -b forged && echo evil > evil.txt && git add evil.txt && git commit --quiet -m evil");
    await world.sh(id, "git update-ref refs/heads/main HEAD && git tag -f v9 HEAD && git update-ref refs/cspace/collected/issue-c HEAD && git symbolic-ref refs/heads/alias refs/heads/main && git checkout --quiet issue-c");
    const work = (await world.sh(id, "git rev-parse issue-c")).trim();
    const storeRefs = await world.git(world.store, ["for-each-ref"]);
    const collected = await world.transport.collect(id, request("wc", "issue-c"));
    expect(collected.sha).toBe(work);
    expect(await world.git(collected.repository, ["for-each-ref", "--format=%(refname) %(objectname)"])).toBe(`refs/cspace/collected/issue-c ${work}\nrefs/heads/issue-c ${work}\n`);
    expect(await world.git(world.store, ["for-each-ref"])).toBe(storeRefs);
    // The forged commit was not sent either: what is not asked for is not fetched.
    const forged = (await world.sh(id, "git rev-parse forged")).trim();
    expect((await runGit(["--git-dir", collected.repository, "cat-file", "-e", forged], { cwd: world.scratch, okCodes: "any" })).exitCode).not.toBe(0);
  });

  it("(d) a worker git that drips bytes forever, stalls or writes garbage is stopped with a clear error", async () => {
    const { id } = await world.worker("wd", "issue-d", base);
    const fake = async (script: string): Promise<void> => {
      // An agent that got root in its container puts its own git first on PATH.
      await world.sh(id, `printf '#!/bin/sh\\n%s\\n' '${script}' > /usr/local/bin/git && chmod 755 /usr/local/bin/git`, "0:0");
    };
    // A pkt-line that announces the largest length git allows and then never finishes arriving: never stalled, never done.
    await fake("printf fff0; while :; do printf x; sleep 1; done");
    await expect(world.withLimits({ totalMs: 8_000 }).collect(id, request("wd", "issue-d"))).rejects.toThrow(/gave up collecting issue-d from wd: it took more than 8 s \(\d+ bytes received\); nothing was kept/);
    await expectNothingKept("wd");
    await fake("sleep 600");
    await expect(world.withLimits({ stallMs: 3_000 }).collect(id, request("wd", "issue-d"))).rejects.toThrow(/gave up collecting issue-d from wd: the worker sent nothing for 3 s \(after 0 bytes\); nothing was kept/);
    await fake("echo HTTP/1.1 200 OK; head -c 4096 /dev/urandom");
    await expect(world.transport.collect(id, request("wd", "issue-d"))).rejects.toThrow(/cannot collect issue-d from wd: .*protocol error/);
    await expectNothingKept("wd");
    await world.sh(id, "rm /usr/local/bin/git", "0:0");
    await expect(world.transport.collect(id, request("wd", "issue-nope"))).rejects.toThrow(/the worker wd has no branch issue-nope: there is nothing to collect/);
  });

  it("(e) no worker can write the mirror, as its user or as root, and the next worker's clone is intact", async () => {
    const { id } = await world.worker("we", "issue-e", base);
    for (const user of [WORKER_USER, "0:0"]) {
      for (const attack of [
        `touch ${MIRROR_IN_CONTAINER}/planted`,
        `echo 0000000000000000000000000000000000000000 > ${MIRROR_IN_CONTAINER}/refs/heads/main`,
        `for f in ${MIRROR_IN_CONTAINER}/objects/pack/*.pack ${MIRROR_IN_CONTAINER}/objects/??/*; do [ -f "$f" ] && echo junk >> "$f"; done; exit 1`,
        `git --git-dir ${MIRROR_IN_CONTAINER} update-ref refs/heads/evil "$(git --git-dir ${MIRROR_IN_CONTAINER} rev-parse refs/heads/main)"`,
        ...(user === WORKER_USER ? ["git commit --quiet --allow-empty -m attack && git push --quiet origin HEAD:refs/heads/main"] : []),
      ]) {
        const tried = await world.runtime.exec(id, ["sh", "-c", attack], { user, workdir: WORKSPACE, env: { HOME: "/tmp" } });
        expect(tried.exitCode, `${attack} as ${user}`).not.toBe(0);
        expect(`${tried.stdout}${tried.stderr}`, attack).toMatch(/Read-only file system|Permission denied|unable to|failed|error/i);
      }
    }
    // Root in the container owns the mirror's files: only the read-only mount stops it.
    const asRoot = await world.runtime.exec(id, ["touch", `${MIRROR_IN_CONTAINER}/planted`], { user: "0:0" });
    expect(asRoot.stderr).toMatch(/Read-only file system/);
    const next = await world.worker("we2", "issue-e2", base);
    expect(await world.sh(next.id, `git rev-parse HEAD; git --git-dir ${MIRROR_IN_CONTAINER} rev-parse refs/heads/main; ls ${MIRROR_IN_CONTAINER}/planted 2>/dev/null | wc -l`)).toBe(`${base}\n${base}\n0\n`);
    await world.sh(next.id, `git --git-dir ${MIRROR_IN_CONTAINER} fsck --no-dangling --no-progress && git fsck --no-progress`);
  });

  it("(f) hooks and config planted in the worker's repository and home run nothing, on the host or as root, during a collect", async () => {
    const { id } = await world.worker("wf", "issue-f", base);
    const marker = `/tmp/cspace-pwned-${runId}`;
    const home = (await world.runtime.exec(id, ["sh", "-c", "echo $HOME"], { user: WORKER_USER })).stdout.trim() || "/";
    const touch = (what: string): string => `id -u > ${marker}-${what}`;
    await world.sh(id, "echo planted > p.txt && git add p.txt && git commit --quiet -m planted");
    // The agent's own repository config and hooks.
    await world.sh(
      id,
      [
        `git config core.fsmonitor '${touch("fsmonitor")}'`,
        `git config uploadpack.packObjectsHook '${touch("repo-hook")}'`,
        `for h in pre-upload-pack post-upload-pack reference-transaction post-checkout pre-receive; do printf '#!/bin/sh\\nid -u > ${marker}-hook-%s\\n' $h > .git/hooks/$h; chmod 755 .git/hooks/$h; done`,
      ].join(" && "),
    );
    // Where git would honour the pack-objects hook: the user's global config (the agent's to write) and, for an agent that got root, the system's.
    await world.sh(id, `git config --file ${home}/.gitconfig uploadpack.packObjectsHook '${touch("global-hook")}' && chown 1000:1000 ${home}/.gitconfig`, "0:0");
    await world.sh(id, `git config --system uploadpack.packObjectsHook '${touch("system-hook")}'`, "0:0");
    // The plants are live: git as the worker runs them when it is not told otherwise.
    await world.runtime.exec(id, ["sh", "-c", `git status --porcelain; git clone --quiet --no-local "$PWD" /tmp/probe-clone`], { user: WORKER_USER, workdir: WORKSPACE, env: { HOME: home } });
    expect(await world.sh(id, `ls ${marker}-* | sort`)).toBe(`${marker}-fsmonitor\n${marker}-global-hook\n`);
    await world.sh(id, `rm -rf ${marker}-* /tmp/probe-clone`, "0:0");

    const collected = await world.transport.collect(id, request("wf", "issue-f"));
    expect(collected.sha).toBe((await world.sh(id, "git rev-parse HEAD")).trim());
    expect(await world.sh(id, `ls ${marker}-* 2>/dev/null | wc -l`, "0:0")).toBe("0\n");
    expect((await readdir("/tmp")).filter((name) => name.startsWith(`cspace-pwned-${runId}`))).toEqual([]);
    expect(existsSync(`${marker}-fsmonitor`)).toBe(false);
  });
});
