import type { InstanceMirror, MirrorLostError } from "../../../adapters/fs/instance-mirror.ts";

/**
 * A remote worker's instance mirror for the length of a run: one lost with
 * its host's connection (sshd restarted, the network back after a while) is
 * opened again when `resume()` is called — the pool does once the worker's
 * relay is back, or before it reads the worker's reports — and the new one
 * resends only what the host's copy lacks. Without it the host's copy (the
 * events the stall watch and `logs` read, state.json, the outbox) would stay
 * as it was when the connection broke for the rest of the run.
 */
export class ResumedMirror {
  readonly #open: () => Promise<InstanceMirror>;
  #current: InstanceMirror;
  #resuming: Promise<void> | null = null;
  #closed = false;

  constructor(first: InstanceMirror, open: () => Promise<InstanceMirror>) {
    this.#current = first;
    this.#open = open;
  }

  /** Why the mirror in use stopped, or null while it runs. */
  get lost(): MirrorLostError | null {
    return this.#current.lost;
  }

  /** Everything the worker's directory holds now is in the host's copy; rejects when the mirror in use is lost first. */
  synced(): Promise<void> {
    return this.#current.synced();
  }

  /**
   * Opens the mirror again when it was lost (one opening at a time: callers
   * meanwhile wait for the same one). A host still silent leaves it lost,
   * for the next call; it rejects then.
   */
  resume(): Promise<void> {
    if (this.#closed || this.#current.lost === null) return Promise.resolve();
    this.#resuming ??= (async () => {
      try {
        const opened = await this.#open();
        // Closed while it opened: nothing may write into the host's copy any more.
        if (this.#closed) await opened.close();
        else this.#current = opened;
      } finally {
        this.#resuming = null;
      }
    })();
    return this.#resuming;
  }

  /**
   * Ends the mirror. With `syncWithinMs`, a running one first copies what the
   * worker's directory holds now, waiting at most that long (a host gone
   * silent is not waited for): the host's copy is then as the worker left it
   * for whoever reads it after the run (`logs`, `list`).
   */
  async close(syncWithinMs = 0): Promise<void> {
    if (syncWithinMs > 0 && !this.#closed) {
      // One being opened now (its host just came back) is the one to copy through.
      const lastCopy = async (): Promise<void> => {
        await this.#resuming?.catch(() => undefined);
        if (this.#current.lost === null) await this.#current.synced().catch(() => undefined);
      };
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([lastCopy(), new Promise((resolve) => { timer = setTimeout(resolve, syncWithinMs); })]);
      clearTimeout(timer);
    }
    this.#closed = true;
    await Promise.all([this.#current.close(), this.#resuming?.catch(() => undefined)]);
  }
}
