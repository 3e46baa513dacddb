import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { streamEnded } from "./stream-end.ts";

describe("streamEnded (waiting for an exec's output to end)", () => {
  it("resolves when the stream ends", async () => {
    const stream = new PassThrough();
    const ended = streamEnded(stream, undefined);
    stream.end();
    stream.resume();
    await expect(ended).resolves.toBeUndefined();
  });

  it("rejects with the reason and destroys the stream when the signal aborts while waiting", async () => {
    const stream = new PassThrough();
    const controller = new AbortController();
    const ended = streamEnded(stream, controller.signal);
    controller.abort(new Error("interrupted"));
    await expect(ended).rejects.toThrow("interrupted");
    expect(stream.destroyed).toBe(true);
  });

  it("rejects at once when the signal aborted before the wait began (an interrupt while the exec was starting)", async () => {
    // The command behind this stream never ends by itself: before the fix, warm waited for it forever after SIGTERM.
    const stream = new PassThrough();
    const controller = new AbortController();
    controller.abort(new Error("interrupted"));
    await expect(streamEnded(stream, controller.signal)).rejects.toThrow("interrupted");
    expect(stream.destroyed).toBe(true);
  });

  it("rejects with the stream's error", async () => {
    const stream = new PassThrough();
    const ended = streamEnded(stream, new AbortController().signal);
    stream.destroy(new Error("socket hang up"));
    await expect(ended).rejects.toThrow("socket hang up");
  });
});
