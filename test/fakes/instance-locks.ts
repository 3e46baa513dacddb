import type { InstanceLocks } from "../../src/core/instances/ports.ts";

/** Instance locks within one process: a queue per instance, and removal requests as a set. */
export class FakeInstanceLocks implements InstanceLocks {
  readonly removals = new Set<string>();
  readonly #tails = new Map<string, Promise<unknown>>();
  readonly #holders = new Map<string, number>();

  held(instance: string): Promise<boolean> {
    return Promise.resolve((this.#holders.get(instance) ?? 0) > 0);
  }

  async withLock<T>(instance: string, work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const before = this.#tails.get(instance) ?? Promise.resolve();
    const mine = before.catch(() => undefined).then(async () => {
      signal?.throwIfAborted();
      this.#holders.set(instance, (this.#holders.get(instance) ?? 0) + 1);
      try {
        return await work();
      } finally {
        this.#holders.set(instance, (this.#holders.get(instance) ?? 1) - 1);
      }
    });
    this.#tails.set(instance, mine.catch(() => undefined));
    return mine;
  }

  requestRemoval(instance: string): Promise<void> {
    this.removals.add(instance);
    return Promise.resolve();
  }

  removalRequested(instance: string): Promise<boolean> {
    return Promise.resolve(this.removals.has(instance));
  }

  clearRemoval(instance: string): Promise<void> {
    this.removals.delete(instance);
    return Promise.resolve();
  }
}
