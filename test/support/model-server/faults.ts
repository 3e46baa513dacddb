/**
 * The only state of the server besides its log: how many requests met each
 * `fail` of a script, and when each `limit` was first met (a relative reset
 * counts from then). Keyed by the API, the steering text, the step and the
 * fault's place, so a retried request meets the same fault.
 */
import type { Fault } from "./script.ts";

export type Firing = { readonly kind: "status"; readonly status: number } | { readonly kind: "limit"; readonly resetsAt: number };

export class FaultCounters {
  private readonly seen = new Map<string, number>();
  private readonly firstMet = new Map<string, number>();

  /** The first fault of `faults` that fires for this request, counting the request against each fault it reaches. */
  fire(key: string, faults: readonly Fault[], nowSeconds: number): Firing | undefined {
    for (const [index, fault] of faults.entries()) {
      const faultKey = `${key}|${String(index)}`;
      if (fault.kind === "status") {
        const count = this.seen.get(faultKey) ?? 0;
        this.seen.set(faultKey, count + 1);
        if (fault.times === "always" || count < fault.times) return { kind: "status", status: fault.status };
        continue;
      }
      const first = this.firstMet.get(faultKey) ?? nowSeconds;
      this.firstMet.set(faultKey, first);
      const resetsAt = "at" in fault.reset ? fault.reset.at : first + fault.reset.after;
      if (nowSeconds < resetsAt) return { kind: "limit", resetsAt };
    }
    return undefined;
  }
}
