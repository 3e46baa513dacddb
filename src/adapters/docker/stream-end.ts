import type { Duplex } from "node:stream";

/**
 * Resolves when an exec's hijacked stream ends; rejects with the signal's
 * reason when the signal aborts, destroying the stream. A signal that aborted
 * before this was called (while the exec was being created or started) counts
 * too: an abort listener added then never fires, and a command that never ends
 * by itself (a postCreateCommand waiting for a file) would hold the caller
 * forever, while the caller waits for this before removing the container that
 * would end it.
 */
export function streamEnded(stream: Duplex, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const abort = (): void => {
      stream.destroy();
      reject(signal?.reason instanceof Error ? signal.reason : new Error("aborted"));
    };
    if (signal?.aborted === true) {
      abort();
      return;
    }
    const settle = (): void => {
      signal?.removeEventListener("abort", abort);
      resolve();
    };
    signal?.addEventListener("abort", abort, { once: true });
    stream.on("end", settle);
    stream.on("close", settle);
    stream.on("error", (error) => {
      signal?.removeEventListener("abort", abort);
      reject(error);
    });
  });
}
