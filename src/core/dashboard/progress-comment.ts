import type { DashboardModel, DashboardRow } from "./model.ts";

/**
 * The parent issue's progress comment (`coordinator.progressComments`): the
 * dashboard as markdown, one comment per run, edited in place as the run goes
 * (services/coordinate/progress-comment.ts). The hidden marker on its first
 * line names the run, so a coordinator that crashed finds its comment again
 * instead of posting a second one.
 */

/** GitHub refuses comment bodies over 65,536 characters; the rest of the review is cut, saying so. */
export const COMMENT_LIMIT = 65_000;

export function progressMarker(runId: string): string {
  return `<!-- cspace:progress run=${runId} -->`;
}

/** Whether a comment's body is this run's progress comment: the marker is its first line, as only cspace writes it. */
export function isProgressComment(body: string, runId: string): boolean {
  return body.split("\n", 1)[0]?.trim() === progressMarker(runId);
}

/**
 * The comment's markdown: the counts (merged / in progress / waiting /
 * failed), what needs a person, one table row per issue in dependency order
 * with its state in words and its pull request, and, once the run has ended,
 * the after-action review (`review`, markdown, as the report writes it).
 */
export function progressCommentMarkdown(model: DashboardModel, review: string | null): string {
  const { counts } = model.header;
  const total = model.rows.length;
  const runId = model.runId ?? "unknown";
  const lines: string[] = [progressMarker(runId)];
  lines.push(`### cspace: ${String(counts.merged)} of ${String(total)} merged${model.ended ? " — run ended" : ""}`, "");
  const tally = [
    `**${String(counts.merged)}** merged`,
    `**${String(counts.working)}** in progress`,
    `**${String(counts.waiting)}** waiting`,
    `**${String(counts.failed)}** failed`,
    ...(counts.blocked > 0 ? [`**${String(counts.blocked)}** blocked`] : []),
  ];
  lines.push(tally.join(" · "));
  const facts = [
    `run \`${cell(runId)}\``,
    ...(model.featureBranch === null ? [] : [`into \`${cell(model.featureBranch)}\``]),
    `${duration(model.header.elapsedMs)} elapsed`,
    ...(model.header.remainingMs === null || model.ended ? [] : [`about ${duration(model.header.remainingMs)} left`]),
    ...(model.header.spentUsd > 0 || model.header.budgetUsd !== null ? [spend(model.header.spentUsd, model.header.budgetUsd)] : []),
    ...(model.header.paused ? ["**paused**"] : []),
    ...(model.header.held === null ? [] : [`held: ${text(model.header.held)}`]),
  ];
  lines.push(facts.join(" · "), "");
  if (model.needsYou.length > 0) {
    lines.push("**Needs you**", "");
    for (const need of model.needsYou) lines.push(`- ${need.issue === null ? "" : `#${String(need.issue)}: `}${text(need.reason)}`);
    lines.push("");
  }
  if (total > 0) {
    lines.push("| Issue | State | Pull request |", "|---|---|---|");
    for (const row of model.rows) lines.push(`| ${issueCell(row)} | ${stateCell(row)} | ${pullRequestCell(row)} |`);
    lines.push("");
  }
  const body = lines.join("\n");
  const footer = model.ended ? "_Final: cspace will not edit this comment again._" : "_Kept up to date by cspace as the run goes (edited in place)._";
  // A blank line first: a line right under a table would read as one more row, and `---` under text as a heading.
  if (review === null || review.trim() === "") return `${body}\n${footer}\n`;
  const room = COMMENT_LIMIT - body.length - footer.length - 200;
  const cut = review.length > room ? `${review.slice(0, Math.max(0, room)).trimEnd()}\n\n…the review is longer than a comment may be: the run directory's report.md has all of it.` : review.trimEnd();
  return `${body}\n---\n\n${cut}\n\n${footer}\n`;
}

function issueCell(row: DashboardRow): string {
  const indent = "↳ ".repeat(Math.min(row.depth, 4));
  return `${indent}#${String(row.issue)} ${cell(row.title)}`;
}

function stateCell(row: DashboardRow): string {
  const words = cell(row.state);
  // Said once: the core's words often name the attempt already.
  const attempt = row.attempt > 1 && !/\battempt\b/.test(row.state) ? ` (attempt ${String(row.attempt)})` : "";
  return row.group === "merged" ? `✅ ${words}` : row.group === "failed" || row.group === "blocked" ? `❌ ${words}${attempt}` : `${words}${attempt}`;
}

function pullRequestCell(row: DashboardRow): string {
  if (row.pullRequest === null) return "—";
  const label = `#${String(row.pullRequest)}`;
  return row.pullRequestUrl === null ? label : `[${label}](${row.pullRequestUrl.replaceAll(")", "%29").replaceAll(" ", "%20")})`;
}

/**
 * Text from issues and workers inside a table cell: one line, no column
 * breaks, no HTML (a title cannot open a comment, hide the rest, or forge a
 * marker).
 */
function cell(value: string): string {
  return text(value).replaceAll("|", "\\|");
}

function text(value: string): string {
  return value.replace(/\s+/g, " ").trim().replaceAll("<", "&lt;").replaceAll(">", "&gt;");
}

function spend(spent: number, budget: number | null): string {
  const dollars = (n: number) => `$${n.toFixed(2)}`;
  return budget === null ? `${dollars(spent)} spent` : `${dollars(spent)} of ${dollars(budget)} spent`;
}

function duration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 1) return "under a minute";
  if (minutes < 60) return `${String(minutes)} min`;
  const hours = Math.floor(minutes / 60);
  return `${String(hours)} h ${String(minutes % 60).padStart(2, "0")} min`;
}
