import { tally, type CheckStatus, type DoctorReport } from "../core/doctor/checks.ts";
import { plainPaint, type Paint, type Tone } from "./tone.ts";

const TONES: Readonly<Record<CheckStatus, Tone>> = { pass: "good", fail: "bad", warn: "warn", skip: "muted" };

export interface DoctorRenderOptions {
  readonly paint?: Paint;
  /** Plain ASCII marks for terminals that cannot show ✓ and ✗. */
  readonly ascii?: boolean;
}

const MARKS: Readonly<Record<CheckStatus, readonly [unicode: string, ascii: string]>> = {
  pass: ["✓", "ok"],
  fail: ["✗", "XX"],
  warn: ["!", "!!"],
  skip: ["-", "--"],
};

/**
 * One line per check (mark, title, detail), the hint indented under it, and
 * a closing verdict. Multi-line details (config errors) keep their lines,
 * indented under the title.
 */
export function renderDoctorReport(report: DoctorReport, options: DoctorRenderOptions = {}): string[] {
  const paint = options.paint ?? plainPaint;
  const width = Math.max(...report.checks.map((check) => check.title.length));
  const indent = " ".repeat((options.ascii === true ? 2 : 1) + 1 + width + 2);
  const lines: string[] = [];
  for (const check of report.checks) {
    const mark = MARKS[check.status][options.ascii === true ? 1 : 0];
    const [first = "", ...more] = check.detail.split("\n");
    const required = check.required || check.status === "pass" ? "" : paint("muted", " (optional)");
    lines.push(`${paint(TONES[check.status], mark)} ${check.title.padEnd(width)}  ${first}${required}`);
    for (const line of more) lines.push(`${indent}${line}`);
    if (check.hint !== undefined) lines.push(`${indent}${paint("muted", `hint: ${check.hint}`)}`);
  }
  lines.push("", verdict(report, paint));
  return lines;
}

function verdict(report: DoctorReport, paint: Paint): string {
  const counts = tally(report);
  const parts = [`${counts.pass} passed`];
  if (counts.warn > 0) parts.push(`${counts.warn} with warnings`);
  if (counts.fail > 0) parts.push(`${counts.fail} failed`);
  if (counts.skip > 0) parts.push(`${counts.skip} not checked`);
  const summary = `${report.checks.length} checks: ${parts.join(", ")}.`;
  return report.ok
    ? `${paint("heading", "Ready:")} ${summary}`
    : `${paint("bad", "Not ready:")} ${summary} Fix the failed checks above and run cspace doctor again.`;
}
