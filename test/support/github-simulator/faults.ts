/** Faults the simulator injects on demand, each for the next `times` matching requests. */
export type FaultKind =
  | "server-error"
  | "secondary-rate-limit"
  | "primary-rate-limit"
  | "mergeable-null"
  | "base-modified"
  | "head-moved"
  /** Someone pushes to the base branch between the check and the merge: the squash lands on a tip the caller never saw. */
  | "base-advanced";

interface Pending {
  readonly kind: FaultKind;
  remaining: number;
  /** Only requests to this operation, when given. */
  readonly operationId: string | undefined;
  /** For rate limits: GitHub answers either. */
  readonly status: 403 | 429;
}

/** Operations each fault applies to when no operation is named. */
const defaultScope: Readonly<Record<FaultKind, string | undefined>> = {
  "server-error": undefined,
  "secondary-rate-limit": undefined,
  "primary-rate-limit": undefined,
  "mergeable-null": "pulls/get",
  "base-modified": "pulls/merge",
  "head-moved": "pulls/merge",
  "base-advanced": "pulls/merge",
};

export class Faults {
  private readonly pending: Pending[] = [];
  /** How many faults were served, by kind, for assertions. */
  readonly served = new Map<FaultKind, number>();

  inject(kind: FaultKind, options: { readonly times?: number; readonly operationId?: string; readonly status?: 403 | 429 } = {}): void {
    this.pending.push({ kind, remaining: options.times ?? 1, operationId: options.operationId ?? defaultScope[kind], status: options.status ?? 403 });
  }

  /** Consumes one of `kind` if one is pending for this operation; false when none is. */
  take(kind: FaultKind, operationId: string): false | { readonly status: 403 | 429 } {
    const fault = this.pending.find((f) => f.kind === kind && f.remaining > 0 && (f.operationId === undefined || f.operationId === operationId));
    if (fault === undefined) return false;
    fault.remaining -= 1;
    this.served.set(kind, (this.served.get(kind) ?? 0) + 1);
    return { status: fault.status };
  }

  clear(): void {
    this.pending.length = 0;
  }
}
