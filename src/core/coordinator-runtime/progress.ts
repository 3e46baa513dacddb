import type { WorldAction } from "../coordinator/actions.ts";
import type { CoordinatorEvent } from "../coordinator/events.ts";

/**
 * What a running coordinator tells its views, typed so a line renderer, the
 * NDJSON printer and a later dashboard subscribe to the same stream: every
 * event once it is durable (with its seq), world actions as they start, and
 * notices (a transient failure that will be tried again).
 */
export type CoordinatorProgress =
  | { readonly kind: "event"; readonly seq: number; readonly event: CoordinatorEvent }
  | { readonly kind: "action"; readonly at: string; readonly action: WorldAction }
  | { readonly kind: "notice"; readonly at: string; readonly text: string };

export type ProgressListener = (progress: CoordinatorProgress) => void;
