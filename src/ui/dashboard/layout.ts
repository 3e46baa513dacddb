import type { DashboardModel, DashboardRow, RowGroup } from "../../core/dashboard/model.ts";
import type { DashboardFrame, RecentLine } from "./frame.ts";
import { cell, duration, fit, oneLine, roughDuration, usd, width } from "./text.ts";

/**
 * The dashboard as lines of toned segments: pure, so every width and every
 * state is tested without a terminal, and the ink view (./view.ts) only maps
 * tones to styles. Every line fits `columns` (nothing wraps) and there are
 * fewer lines than `rows`: ink redraws in place only while its output is
 * shorter than the terminal, and clears the whole screen otherwise (flicker).
 */

export type LineTone = "plain" | "heading" | "muted" | "good" | "bad" | "warn" | "accent" | "selected";

export interface Segment {
  readonly text: string;
  readonly tone: LineTone;
}

export type ViewLine = readonly Segment[];

export interface ViewSize {
  readonly columns: number;
  readonly rows: number;
}

/** What the person did in the view: the selected row, the events panel, the last key's answer. */
export interface ViewState {
  /** The selected issue (kept across frames by number, not by position). */
  readonly selected: number | null;
  /** The `enter` panel: the issue, and its recent events once read (null while reading). */
  readonly panel: { readonly issue: number; readonly events: readonly RecentLine[] | null; readonly error?: string | undefined } | null;
  /** A skip waiting for its confirmation (a second `s`, or `y`). */
  readonly confirmingSkip: number | null;
  /** The coordinator's answer to the last key, or what went wrong. */
  readonly status: { readonly text: string; readonly tone: LineTone } | null;
  /** `q` detaches (false where the view is the coordinator's own process, as in `cspace demo`). */
  readonly canDetach: boolean;
}

export const GROUP_TONE: Readonly<Record<RowGroup, LineTone>> = { merged: "good", working: "accent", waiting: "plain", failed: "bad", blocked: "warn" };

const NEEDS_YOU_SHOWN = 4;
const PANEL_EVENTS = 8;
/** Below this the per-row figures (attempt, turns, cost, elapsed) are left out: the state matters more. */
const FIGURES_FROM = 70;
/** `rowFigures`' width: "a12 140t $123.45 2h10m". */
const FIGURES_WIDTH = 3 + 1 + 4 + 1 + 7 + 1 + 6;

export function dashboardLines(frame: DashboardFrame | null, view: ViewState, size: ViewSize): ViewLine[] {
  const columns = Math.max(1, size.columns);
  const fitLine = (line: ViewLine): ViewLine => fitSegments(line, columns);
  if (frame === null) return [[{ text: fit("Reading the run's event log…", columns), tone: "muted" }]];
  const model = frame.model;
  const top = [...headerLines(model, columns), ...needsYouLines(model, columns)];
  const bottom = [...detailLines(frame, view, columns), ...panelLines(view, columns), statusLine(frame, view, columns), footerLine(model, view, columns)];
  // One line short of the terminal (see above), and always room for a few rows.
  const room = Math.max(3, size.rows - 1 - top.length - bottom.length);
  const rows = visibleRows(model.rows, view.selected, room);
  const layout = tableLayout(rows.rows, columns);
  const table = rows.rows.map((row) => rowLine(row, frame.lastLines.get(row.issue) ?? null, row.issue === view.selected, layout));
  if (rows.above > 0) table.unshift([{ text: `  ↑ ${String(rows.above)} more`, tone: "muted" }]);
  if (rows.below > 0) table.push([{ text: `  ↓ ${String(rows.below)} more`, tone: "muted" }]);
  if (model.rows.length === 0) table.push([{ text: "No issues in this run yet.", tone: "muted" }]);
  return [...top, ...table, ...bottom].map(fitLine);
}

function headerLines(model: DashboardModel, columns: number): ViewLine[] {
  const c = model.header.counts;
  const long = `merged ${String(c.merged)} · working ${String(c.working)} · waiting ${String(c.waiting)} · failed ${String(c.failed)} · blocked ${String(c.blocked)}`;
  const short = `✓${String(c.merged)} ▸${String(c.working)} …${String(c.waiting)} ✗${String(c.failed)} ⊘${String(c.blocked)}`;
  const title = `cspace run${model.runId === null ? "" : ` ${model.runId}`}${model.featureBranch === null ? "" : ` → ${model.featureBranch}`}`;
  const counts = width(long) <= columns ? long : short;
  const h = model.header;
  const facts = [
    h.budgetUsd === null ? `${usd(h.spentUsd)} spent` : `${usd(h.spentUsd)} of ${usd(h.budgetUsd)}`,
    `${duration(h.elapsedMs)} elapsed`,
    ...(h.remainingMs === null || model.ended ? [] : [`~${roughDuration(h.remainingMs)} left (critical path)`]),
  ];
  const flags: Segment[] = [
    ...(model.ended ? [{ text: " · run ended", tone: "good" as const }] : []),
    ...(h.paused && !model.ended ? [{ text: " · PAUSED", tone: "warn" as const }] : []),
    ...(h.held === null || model.ended ? [] : [{ text: ` · held: ${oneLine(h.held)}`, tone: "warn" as const }]),
  ];
  return [
    [{ text: title, tone: "heading" }],
    [{ text: counts, tone: "plain" }],
    [{ text: facts.join(" · "), tone: "muted" }, ...flags],
  ];
}

function needsYouLines(model: DashboardModel, columns: number): ViewLine[] {
  if (model.needsYou.length === 0) return [];
  const shown = model.needsYou.slice(0, NEEDS_YOU_SHOWN).map((item): ViewLine => [
    { text: "! ", tone: "bad" },
    { text: item.issue === null ? "" : `#${String(item.issue)} `, tone: "heading" },
    { text: oneLine(item.reason), tone: "plain" },
  ]);
  const more = model.needsYou.length - shown.length;
  return [
    [{ text: fit(`Needs you (${String(model.needsYou.length)})`, columns), tone: "bad" }],
    ...shown,
    ...(more > 0 ? [[{ text: `  and ${String(more)} more: cspace status lists them`, tone: "muted" }] as ViewLine] : []),
  ];
}

/** The rows that fit, kept around the selection. */
function visibleRows(rows: readonly DashboardRow[], selected: number | null, room: number): { rows: readonly DashboardRow[]; above: number; below: number } {
  if (rows.length <= room) return { rows, above: 0, below: 0 };
  // Lines for "↑ n more" / "↓ n more" come out of the same room.
  const window = Math.max(1, room - 2);
  const index = Math.max(0, rows.findIndex((row) => row.issue === selected));
  const start = Math.min(Math.max(0, index - Math.floor(window / 2)), rows.length - window);
  return { rows: rows.slice(start, start + window), above: start, below: rows.length - start - window };
}

/** Column widths shared by the visible rows, so the states and figures line up. */
interface TableLayout {
  readonly prefix: number;
  readonly title: number;
  readonly state: number;
  readonly figures: boolean;
  readonly columns: number;
}

/**
 * The title and the state share what the figures leave (the title at most
 * half); the agent's last line (dim) takes what is left after them, if any.
 */
function tableLayout(rows: readonly DashboardRow[], columns: number): TableLayout {
  const figures = columns >= FIGURES_FROM;
  const prefix = Math.max(0, ...rows.map((row) => width(rowPrefix(row, false))));
  const avail = columns - prefix - (figures ? FIGURES_WIDTH : 0);
  // The state first (up to 60%: it is what a person reads first), the title what the state leaves (at most 48 cells).
  const stateNeed = Math.max(0, ...rows.map((row) => width(oneLine(row.state)))) + 2;
  const titleNeed = Math.max(0, ...rows.map((row) => width(oneLine(row.title)))) + 2;
  const title = Math.max(0, Math.min(titleNeed, 48, Math.max(8, avail - Math.min(stateNeed, Math.floor(avail * 0.6)))));
  const state = Math.max(0, Math.min(stateNeed, avail - title));
  return { prefix, title, state, figures, columns };
}

function rowPrefix(row: DashboardRow, selected: boolean): string {
  return `${selected ? "›" : " "} ${"  ".repeat(Math.min(row.depth, 6))}#${String(row.issue)} `;
}

/** `› #12 Title…   state…   a2  14t   $0.42  3m05s  last line`. */
function rowLine(row: DashboardRow, lastLine: string | null, selected: boolean, layout: TableLayout): ViewLine {
  const figures = layout.figures ? rowFigures(row) : "";
  const rest = layout.columns - layout.prefix - layout.title - layout.state - width(figures) - 2;
  const tone = GROUP_TONE[row.group];
  return [
    { text: cell(rowPrefix(row, selected), layout.prefix), tone: selected ? "selected" : row.needsYou ? "bad" : "plain" },
    // Two spaces after a column even when its text is cut: "…" then the next column, never glued together.
    { text: `${cell(oneLine(row.title), layout.title - 2)}  `, tone: selected ? "selected" : "plain" },
    { text: `${cell(oneLine(row.state), layout.state - 2)}  `, tone },
    { text: figures, tone: "muted" },
    ...(lastLine !== null && rest >= 8 ? [{ text: `  ${fit(oneLine(lastLine), rest)}`, tone: "muted" as const }] : []),
  ];
}

function rowFigures(row: DashboardRow): string {
  const attempt = row.attempt === 0 ? "-" : `a${String(row.attempt)}`;
  const cost = row.costUsd === null ? "-" : usd(row.costUsd);
  const elapsed = row.elapsedMs === null ? "-" : duration(row.elapsedMs);
  return `${attempt.padStart(3)} ${`${String(row.turns)}t`.padStart(4)} ${cost.padStart(7)} ${elapsed.padStart(6)}`;
}

/** The selected row's agent line in full width: the table only has room for its start. */
function detailLines(frame: DashboardFrame, view: ViewState, columns: number): ViewLine[] {
  if (view.selected === null) return [];
  const row = frame.model.rows.find((r) => r.issue === view.selected);
  if (row === undefined) return [];
  const last = frame.lastLines.get(row.issue);
  const pr = row.pullRequestUrl ?? (row.pullRequest === null ? null : `pull request #${String(row.pullRequest)}`);
  const text = `#${String(row.issue)}: ${last === undefined ? "(the agent has said nothing yet)" : oneLine(last)}${pr === null ? "" : ` · ${pr}`}`;
  return [[{ text: fit(text, columns), tone: "muted" }]];
}

function panelLines(view: ViewState, columns: number): ViewLine[] {
  const panel = view.panel;
  if (panel === null) return [];
  const heading: ViewLine = [{ text: fit(`Recent events of #${String(panel.issue)} (enter closes)`, columns), tone: "heading" }];
  if (panel.error !== undefined) return [heading, [{ text: oneLine(panel.error), tone: "bad" }]];
  if (panel.events === null) return [heading, [{ text: "reading…", tone: "muted" }]];
  if (panel.events.length === 0) return [heading, [{ text: "no events yet", tone: "muted" }]];
  return [heading, ...panel.events.slice(-PANEL_EVENTS).map((event): ViewLine => [{ text: `${clock(event.at)} `, tone: "muted" }, { text: oneLine(event.text), tone: "plain" }])];
}

function statusLine(frame: DashboardFrame, view: ViewState, columns: number): ViewLine {
  if (view.confirmingSkip !== null) return [{ text: fit(`Skip #${String(view.confirmingSkip)}? It ends blocked by you, and so do its dependents: s or y skips, any other key cancels.`, columns), tone: "warn" }];
  if (view.status !== null) return [{ text: oneLine(view.status.text), tone: view.status.tone }];
  if (!frame.coordinatorAlive && !frame.model.ended) return [{ text: "No coordinator is running this run: keys cannot reach it (cspace coordinate --resume carries it on).", tone: "muted" }];
  return [{ text: " ", tone: "plain" }];
}

function footerLine(model: DashboardModel, view: ViewState, columns: number): ViewLine {
  const pause = model.header.paused ? "resume" : "pause";
  const long = `↑↓ select · p ${pause} · s skip · r retry · enter events · ${view.canDetach ? "q detach" : "Ctrl-C stop"}`;
  const short = `↑↓ p:${pause} s:skip r:retry ⏎:events ${view.canDetach ? "q:detach" : "^C:stop"}`;
  const tiny = `↑↓ p:${pause} s r ⏎ ${view.canDetach ? "q" : "^C"}`;
  return [{ text: [long, short].find((text) => width(text) <= columns) ?? tiny, tone: "muted" }];
}

function clock(at: string): string {
  return at.length >= 19 ? at.slice(11, 19) : at;
}

/** Cuts a line's segments so their total fits `columns`, the last one shown ending in "…". */
export function fitSegments(line: ViewLine, columns: number): ViewLine {
  const out: Segment[] = [];
  let left = columns;
  for (const segment of line) {
    if (left <= 0) break;
    const text = fit(segment.text, left);
    if (text.length === 0) continue;
    out.push({ text, tone: segment.tone });
    left -= width(text);
  }
  return out;
}
