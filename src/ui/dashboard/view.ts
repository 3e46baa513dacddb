import { Box, Text, useInput, useWindowSize, type Key, type TextProps } from "ink";
import React, { useCallback, useEffect, useRef, useState } from "react";
import type { DashboardFrame, RecentLine } from "./frame.ts";
import { keyAction, type KeyAction } from "./keys.ts";
import { dashboardLines, type LineTone, type ViewLine, type ViewSize, type ViewState } from "./layout.ts";

/**
 * The ink dashboard: follows a stream of frames (WatchFrame), draws them with
 * ./layout.ts and turns keys into operator commands (./keys.ts). It never
 * reaches the coordinator itself: `send` and `recentEvents` are given, so the
 * tests drive it with frames and a recording sender.
 */

const h = React.createElement;

export type DashboardExit =
  | { readonly kind: "detached" }
  | { readonly kind: "interrupted" }
  /** The frames ended (the run ended, or the follower stopped): the last one shown. */
  | { readonly kind: "ended"; readonly frame: DashboardFrame | null }
  | { readonly kind: "failed"; readonly error: unknown };

export interface DashboardProps {
  readonly frames: AsyncIterable<DashboardFrame>;
  /** Sends an operator command to the run's coordinator; resolves with its answer, rejects with what went wrong. */
  readonly send: (command: string) => Promise<string>;
  readonly recentEvents: (issue: number) => Promise<readonly RecentLine[]>;
  readonly onExit: (exit: DashboardExit) => void;
  /** Colours (the terminal has them and NO_COLOR is unset): without, the view writes no escape sequence of its own. */
  readonly colour: boolean;
  readonly canDetach: boolean;
  /** A fixed size (tests); the terminal's, following resizes, otherwise. */
  readonly size?: ViewSize | undefined;
  /** At most one frame drawn per this many ms (10 a second by default): a busy log does not redraw for every event. */
  readonly minFrameMs?: number | undefined;
}

const TONE_STYLE: Readonly<Record<LineTone, TextProps>> = {
  plain: {},
  heading: { bold: true },
  muted: { dimColor: true },
  good: { color: "green" },
  bad: { color: "red" },
  warn: { color: "yellow" },
  accent: { color: "cyan" },
  selected: { bold: true, color: "cyan" },
};

/** How long the events panel's content may be old while frames keep coming. */
const PANEL_REFRESH_MS = 1_000;

export function Dashboard(props: DashboardProps): React.ReactElement {
  const terminal = useWindowSize();
  const size = props.size ?? { columns: terminal.columns, rows: terminal.rows };
  const frame = useThrottledFrames(props.frames, props.minFrameMs ?? 100, props.onExit);
  const [selected, setSelected] = useState<number | null>(null);
  const [panel, setPanel] = useState<ViewState["panel"]>(null);
  const [confirmingSkip, setConfirmingSkip] = useState<number | null>(null);
  const [status, setStatus] = useState<ViewState["status"]>(null);
  const panelLoadedAt = useRef(0);
  const { recentEvents, send, onExit } = props;
  // Keys can come faster than renders (a held-down j): each reads and moves what the last one left, not the last render.
  const keyState = useRef<{ selected: number | null; confirmingSkip: number | null; panel: number | null }>({ selected: null, confirmingSkip: null, panel: null });
  const shownSelection = selected ?? defaultSelection(frame);

  const loadPanel = useCallback(
    (issue: number, keep: boolean) => {
      panelLoadedAt.current = Date.now();
      if (!keep) setPanel({ issue, events: null });
      recentEvents(issue).then(
        (events) => {
          setPanel((open) => (open?.issue === issue ? { issue, events } : open));
        },
        (error: unknown) => {
          setPanel((open) => (open?.issue === issue ? { issue, events: null, error: `cannot read #${String(issue)}'s events: ${messageOf(error)}` } : open));
        },
      );
    },
    [recentEvents],
  );

  // An open panel follows the log, at most once a second.
  useEffect(() => {
    if (panel === null || Date.now() - panelLoadedAt.current < PANEL_REFRESH_MS) return;
    loadPanel(panel.issue, true);
  }, [frame, panel, loadPanel]);

  const act = (action: KeyAction): void => {
    switch (action.kind) {
      case "none":
        return;
      case "select":
        keyState.current.selected = action.issue;
        setSelected(action.issue);
        setStatus(null);
        if (keyState.current.panel !== null) {
          keyState.current.panel = action.issue;
          loadPanel(action.issue, false);
        }
        return;
      case "confirm-skip":
        keyState.current.confirmingSkip = action.issue;
        setConfirmingSkip(action.issue);
        return;
      case "close":
        keyState.current.confirmingSkip = null;
        keyState.current.panel = null;
        setConfirmingSkip(null);
        setPanel(null);
        return;
      case "toggle-panel":
        if (keyState.current.panel === action.issue) {
          keyState.current.panel = null;
          setPanel(null);
        } else {
          keyState.current.panel = action.issue;
          loadPanel(action.issue, false);
        }
        return;
      case "say":
        setStatus({ text: action.text, tone: "warn" });
        return;
      case "send":
        keyState.current.confirmingSkip = null;
        setConfirmingSkip(null);
        setStatus({ text: `${action.command}: sent, waiting for the coordinator…`, tone: "muted" });
        send(action.command).then(
          (answer) => {
            setStatus({ text: `coordinator: ${answer}`, tone: "good" });
          },
          (error: unknown) => {
            setStatus({ text: `${action.command}: ${messageOf(error)}`, tone: "bad" });
          },
        );
        return;
      case "detach":
        onExit({ kind: "detached" });
        return;
      case "interrupt":
        onExit({ kind: "interrupted" });
        return;
    }
  };

  useInput((input: string, key: Key) => {
    const now = keyState.current;
    act(keyAction(input, key, { model: frame?.model ?? null, selected: now.selected ?? defaultSelection(frame), confirmingSkip: now.confirmingSkip, canDetach: props.canDetach }));
  });

  const lines = dashboardLines(frame, { selected: shownSelection, panel, confirmingSkip, status, canDetach: props.canDetach }, size);
  return h(Box, { flexDirection: "column", width: size.columns }, ...lines.map((line, index) => lineElement(line, index, props.colour)));
}

/** Until a key moves it, the selection is what most likely needs a look: the first issue that needs you, else the first row. */
function defaultSelection(frame: DashboardFrame | null): number | null {
  if (frame === null) return null;
  return frame.model.needsYou.find((item) => item.issue !== null)?.issue ?? frame.model.rows[0]?.issue ?? null;
}

function lineElement(line: ViewLine, index: number, colour: boolean): React.ReactElement {
  const segments = line.length === 0 ? [{ text: " ", tone: "plain" as const }] : line;
  return h(Text, { key: index, wrap: "truncate-end" }, ...segments.map((segment, at) => h(Text, { key: at, ...(colour ? TONE_STYLE[segment.tone] : {}) }, segment.text)));
}

/**
 * The latest frame, drawn at most once per `minMs`; the last one always. When
 * the frames end, `onExit` is called once that last frame is on screen.
 */
function useThrottledFrames(frames: AsyncIterable<DashboardFrame>, minMs: number, onExit: (exit: DashboardExit) => void): DashboardFrame | null {
  const [shown, setShown] = useState<{ frame: DashboardFrame | null; ended: boolean }>({ frame: null, ended: false });
  useEffect(() => {
    let latest: DashboardFrame | null = null;
    let drawnAt = 0;
    let timer: NodeJS.Timeout | undefined;
    // An object: the cleanup below sets it while the loop awaits, which flow analysis cannot see for a plain let.
    const life = { stopped: false };
    const draw = (): void => {
      timer = undefined;
      drawnAt = Date.now();
      setShown({ frame: latest, ended: false });
    };
    void (async () => {
      try {
        for await (const frame of frames) {
          if (life.stopped) return;
          latest = frame;
          if (timer === undefined) timer = setTimeout(draw, Math.max(0, drawnAt + minMs - Date.now()));
        }
        if (life.stopped) return;
        clearTimeout(timer);
        setShown({ frame: latest, ended: true });
      } catch (error) {
        if (!life.stopped) onExit({ kind: "failed", error });
      }
    })();
    return () => {
      life.stopped = true;
      clearTimeout(timer);
    };
  }, [frames, minMs, onExit]);
  useEffect(() => {
    if (shown.ended) onExit({ kind: "ended", frame: shown.frame });
  }, [shown, onExit]);
  return shown.frame;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
