/** What warm reports as it goes, for the progress display and the --json result. */

export type WarmStep = "image" | "workspace" | "create" | "start" | "postCreate" | "postStart" | "validate" | "cleanup";

/** How an instance became ready: made now, only checked, or its stopped container started again. */
export type WarmAction = "created" | "validated" | "restarted";

export interface InstanceOutcome {
  readonly instance: string;
  readonly status: "ready" | "failed" | "cancelled";
  readonly action: WarmAction | null;
  readonly container: string;
  /** The host it runs on (`workers.hosts`). */
  readonly host: string;
  readonly base: string;
  readonly commit: string | null;
  readonly image: string;
  readonly attempts: number;
  readonly elapsedMs: number;
  readonly error: { readonly message: string; readonly output: string } | null;
}

export type WarmEvent =
  | { readonly kind: "step"; readonly instance: string; readonly step: WarmStep; readonly attempt: number }
  | { readonly kind: "retry"; readonly instance: string; readonly reason: string }
  /** Something the user should know that does not stop the warm (a devcontainer.json key cspace ignores). */
  | { readonly kind: "warning"; readonly message: string }
  | { readonly kind: "done"; readonly outcome: InstanceOutcome };
