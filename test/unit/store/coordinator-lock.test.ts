import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { acquireCoordinatorLock, COORDINATOR_LOCK_FILE, FileCoordinatorLock } from "../../../src/adapters/store/coordinator-lock.ts";
import { bootId, probeProcess } from "../../../src/shared/process-identity.ts";
import { UserError } from "../../../src/core/errors.ts";
import { FakeCoordinatorLock } from "../../fakes/event-store.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";
import { startChild, type StoreChild } from "./processes.ts";

const tempDir = useTempDirs("coordinator-lock");
const children: StoreChild[] = [];
afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.kill9()));
});

/** A lock file as another holder would have left it. */
async function plant(dir: string, record: Record<string, unknown>): Promise<void> {
  const mine = { pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), token: "planted", bootId: bootId(), startTicks: probeProcess(process.pid).startTicks };
  await writeFile(path.join(dir, COORDINATOR_LOCK_FILE), JSON.stringify({ ...mine, ...record }));
}

describe("the coordinator lock", () => {
  it("refuses a second process while the first holds it, naming its pid, host and start time; takes over once it is killed -9", async () => {
    const dir = await tempDir();
    const holder = startChild(["lock", dir]);
    children.push(holder);
    await holder.line("locked ");

    const refusal = acquireCoordinatorLock(dir);
    await expect(refusal).rejects.toBeInstanceOf(UserError);
    await expect(refusal).rejects.toThrow(new RegExp(`process ${String(holder.pid)} on ${os.hostname()}, since \\d{4}-\\d\\d-\\d\\dT`));
    expect(await new FileCoordinatorLock(dir).holder()).toMatchObject({ pid: holder.pid, host: os.hostname() });

    await holder.kill9();
    const held = await acquireCoordinatorLock(dir);
    expect(held.holder.pid).toBe(process.pid);
    expect(await new FileCoordinatorLock(dir).holder()).toEqual(held.holder);
    await held.release();
  });

  it("refuses a second acquire in the same process, and is free again once released", async () => {
    const dir = await tempDir();
    const first = await acquireCoordinatorLock(dir);
    await expect(acquireCoordinatorLock(dir)).rejects.toThrow(`process ${String(process.pid)}`);
    await first.release();
    await first.release();
    expect(await new FileCoordinatorLock(dir).holder()).toBeUndefined();
    const second = await acquireCoordinatorLock(dir);
    await second.release();
  });

  it("never lets a late release remove a lock someone else took since", async () => {
    const dir = await tempDir();
    const first = await acquireCoordinatorLock(dir);
    await plant(dir, { token: "someone-else" });
    await first.release();
    expect(JSON.parse(await readFile(path.join(dir, COORDINATOR_LOCK_FILE), "utf8"))).toMatchObject({ token: "someone-else" });
  });

  it("replaces a lock taken before this machine booted, even if its pid is alive now", async () => {
    const dir = await tempDir();
    await plant(dir, { bootId: "a-previous-boot", startedAt: new Date(0).toISOString() });
    const held = await acquireCoordinatorLock(dir);
    await held.release();
  });

  it.runIf(process.platform === "linux")("replaces a lock whose pid was reused by a process that started later", async () => {
    const dir = await tempDir();
    await plant(dir, { startTicks: "1" });
    const held = await acquireCoordinatorLock(dir);
    await held.release();
  });

  it("replaces a lock file it cannot read", async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, COORDINATOR_LOCK_FILE), "{ half a rec");
    expect(await new FileCoordinatorLock(dir).holder()).toBeUndefined();
    const held = await acquireCoordinatorLock(dir);
    await held.release();
  });

  it("refuses a holder on another host, which it cannot probe, and says which file to delete if it is gone", async () => {
    const dir = await tempDir();
    await plant(dir, { host: "build-box-7", pid: 4242 });
    const refusal = acquireCoordinatorLock(dir);
    await expect(refusal).rejects.toThrow("process 4242 on another host, build-box-7");
    await expect(refusal).rejects.toMatchObject({ hint: expect.stringContaining(path.join(dir, COORDINATOR_LOCK_FILE)) as unknown });
  });
});

describe("the fake coordinator lock", () => {
  it("refuses a second holder with the real lock's message, and takes over once the holder died", async () => {
    const lock = new FakeCoordinatorLock();
    const first = await lock.acquire();
    await expect(lock.acquire()).rejects.toThrow(`a coordinator is already running for this project: process ${String(first.holder.pid)} on fake-host`);
    lock.holderDied();
    const second = await lock.acquire();
    await first.release();
    expect(await lock.holder()).toEqual(second.holder);
  });
});
