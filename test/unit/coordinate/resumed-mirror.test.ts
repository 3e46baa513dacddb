import { afterEach, describe, expect, it, vi } from "vitest";
import { MirrorLostError, type InstanceMirror } from "../../../src/adapters/fs/instance-mirror.ts";
import { ResumedMirror } from "../../../src/services/coordinate/pool/resumed-mirror.ts";

/**
 * A remote worker's mirror lost with its host's connection is opened again
 * when the pool resumes it (pool/resumed-mirror.ts), once, whoever asks; a
 * host still silent leaves it lost for the next try; the pool's close waits a
 * bounded while for its last copy.
 */

/** An InstanceMirror that does what the test says: lost or running, its syncs answered or not. */
class FakeMirror implements InstanceMirror {
  readonly name: string;
  lost: MirrorLostError | null = null;
  closed = false;
  syncs = 0;
  answers = true;

  constructor(name: string) {
    this.name = name;
  }

  synced(): Promise<void> {
    if (this.lost !== null) return Promise.reject(this.lost);
    this.syncs += 1;
    return this.answers ? Promise.resolve() : new Promise(() => undefined);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }

  onLost(): void {
    // Not used by ResumedMirror: it asks `lost` when resumed.
  }

  lose(): void {
    this.lost = new MirrorLostError("/run/issue-1", "its command in the container ended (exit code 255)");
  }
}

/** Opens FakeMirrors named 2, 3, …; the next open fails while `failing` is set, or waits for `release` while `held` is. */
function opener() {
  const opened: FakeMirror[] = [];
  const state = { failing: false, held: null as Promise<void> | null };
  const open = async (): Promise<InstanceMirror> => {
    if (state.failing) throw new Error("cannot connect to a (ssh://root@10.213.0.2:22): connect ECONNREFUSED");
    if (state.held !== null) await state.held;
    const mirror = new FakeMirror(String(opened.length + 2));
    opened.push(mirror);
    return mirror;
  };
  return { opened, state, open };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("a remote worker's mirror resumed after its host's connection broke", () => {
  it("opens a lost mirror again once, however many ask at a time, and copies through the new one", async () => {
    const first = new FakeMirror("1");
    const { opened, open } = opener();
    const mirror = new ResumedMirror(first, open);
    first.lose();
    expect(mirror.lost).toBe(first.lost);
    await Promise.all([mirror.resume(), mirror.resume(), mirror.resume()]);
    expect(opened.map((m) => m.name)).toEqual(["2"]);
    expect(mirror.lost).toBeNull();
    await mirror.synced();
    expect(opened[0]?.syncs).toBe(1);
    expect(first.syncs).toBe(0);
  });

  it("opens nothing while the mirror runs", async () => {
    const { opened, open } = opener();
    const mirror = new ResumedMirror(new FakeMirror("1"), open);
    await mirror.resume();
    expect(opened).toEqual([]);
  });

  it("stays lost while its host does not answer, and is opened on the next try once it does", async () => {
    const first = new FakeMirror("1");
    const { opened, state, open } = opener();
    const mirror = new ResumedMirror(first, open);
    first.lose();
    state.failing = true;
    await expect(mirror.resume()).rejects.toThrow(/ECONNREFUSED/);
    expect(mirror.lost).toBe(first.lost);
    await expect(mirror.synced()).rejects.toBe(first.lost);
    state.failing = false;
    await mirror.resume();
    expect(opened.map((m) => m.name)).toEqual(["2"]);
    expect(mirror.lost).toBeNull();
  });

  it("closes a mirror that opened after it was closed: nothing writes into the host's copy after the run", async () => {
    const first = new FakeMirror("1");
    const { opened, state, open } = opener();
    let release: () => void = () => undefined;
    state.held = new Promise((resolve) => { release = resolve; });
    const mirror = new ResumedMirror(first, open);
    first.lose();
    const resuming = mirror.resume();
    const closing = mirror.close();
    release();
    await Promise.all([resuming, closing]);
    expect(opened.map((m) => [m.name, m.closed])).toEqual([["2", true]]);
    expect(first.closed).toBe(true);
  });

  it("copies what the worker holds before it is closed at the run's end, waiting a bounded while for a host that does not answer", async () => {
    const answering = new FakeMirror("1");
    await new ResumedMirror(answering, opener().open).close(5_000);
    expect([answering.syncs, answering.closed]).toEqual([1, true]);

    vi.useFakeTimers();
    const silent = new FakeMirror("1");
    silent.answers = false;
    const closing = new ResumedMirror(silent, opener().open).close(5_000);
    await vi.advanceTimersByTimeAsync(4_999);
    expect(silent.closed).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await closing;
    expect([silent.syncs, silent.closed]).toEqual([1, true]);

    // One being opened as the run ends is the one copied through.
    const before = new FakeMirror("1");
    const { opened, state, open } = opener();
    let release: () => void = () => undefined;
    state.held = new Promise((resolve) => { release = resolve; });
    const resumed = new ResumedMirror(before, open);
    before.lose();
    const resuming = resumed.resume();
    const ending = resumed.close(5_000);
    release();
    await Promise.all([resuming, ending]);
    expect(opened.map((m) => [m.name, m.syncs, m.closed])).toEqual([["2", 1, true]]);

    // A lost one has nothing to copy: closed at once.
    const lost = new FakeMirror("1");
    lost.lose();
    await new ResumedMirror(lost, opener().open).close(5_000);
    expect([lost.syncs, lost.closed]).toEqual([0, true]);
  });
});
