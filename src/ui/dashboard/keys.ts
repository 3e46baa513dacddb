import type { DashboardModel } from "../../core/dashboard/model.ts";

/**
 * What a key does in the dashboard, decided without ink: the view (./view.ts)
 * carries the action out. Operator keys become the commands `cspace send
 * _coordinator` takes ("pause", "resume", "skip N why", "retry N"), so the
 * coordinator records them as it records anyone's.
 */

/** The keys ink reports that the dashboard uses (a subset of ink's `Key`). */
export interface PressedKey {
  readonly upArrow: boolean;
  readonly downArrow: boolean;
  readonly return: boolean;
  readonly escape: boolean;
  readonly ctrl: boolean;
}

export type KeyAction =
  | { readonly kind: "select"; readonly issue: number }
  | { readonly kind: "send"; readonly command: string }
  | { readonly kind: "confirm-skip"; readonly issue: number }
  | { readonly kind: "toggle-panel"; readonly issue: number }
  | { readonly kind: "close" }
  | { readonly kind: "detach" }
  | { readonly kind: "interrupt" }
  | { readonly kind: "say"; readonly text: string }
  | { readonly kind: "none" };

export interface KeyContext {
  readonly model: DashboardModel | null;
  readonly selected: number | null;
  readonly confirmingSkip: number | null;
  readonly canDetach: boolean;
}

/** The reason a skip from the dashboard records (the log and the report show it). */
export const DASHBOARD_SKIP_REASON = "skipped from the dashboard";

export function keyAction(input: string, key: PressedKey, context: KeyContext): KeyAction {
  if (key.ctrl && input === "c") return { kind: "interrupt" };
  if (context.confirmingSkip !== null) {
    // A skip is not undone: only a second `s` or `y` confirms it, anything else cancels.
    return input === "s" || input === "y" ? { kind: "send", command: `skip ${String(context.confirmingSkip)} ${DASHBOARD_SKIP_REASON}` } : { kind: "close" };
  }
  const rows = context.model?.rows ?? [];
  const index = rows.findIndex((row) => row.issue === context.selected);
  const selected = index === -1 ? undefined : rows[index];
  if (key.upArrow || input === "k") {
    const target = rows[index === -1 ? rows.length - 1 : Math.max(0, index - 1)];
    return target === undefined ? { kind: "none" } : { kind: "select", issue: target.issue };
  }
  if (key.downArrow || input === "j") {
    const target = rows[index === -1 ? 0 : Math.min(rows.length - 1, index + 1)];
    return target === undefined ? { kind: "none" } : { kind: "select", issue: target.issue };
  }
  if (key.escape) return { kind: "close" };
  if (key.return) return selected === undefined ? { kind: "say", text: "select an issue first (↑/↓ or j/k)" } : { kind: "toggle-panel", issue: selected.issue };
  switch (input) {
    case "p":
      return { kind: "send", command: context.model?.header.paused === true ? "resume" : "pause" };
    case "s":
      return selected === undefined ? { kind: "say", text: "select an issue to skip first (↑/↓ or j/k)" } : { kind: "confirm-skip", issue: selected.issue };
    case "r":
      return selected === undefined ? { kind: "say", text: "select an issue to retry first (↑/↓ or j/k)" } : { kind: "send", command: `retry ${String(selected.issue)}` };
    case "q":
      return context.canDetach ? { kind: "detach" } : { kind: "say", text: "this run lives in this process: Ctrl-C stops it" };
    default:
      return { kind: "none" };
  }
}
