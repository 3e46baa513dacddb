import type { RunReport } from "../../core/coordinator/report.ts";
import type { OpenedProject } from "../project.ts";

// Its own module so that `cspace status` reads the denials without loading the coordinator's runtime.
/** The report with the egress proxy's denials since the run started, when workers run on an allowlist. */
export async function withEgressDenials(project: OpenedProject, report: RunReport): Promise<RunReport> {
  if (typeof project.config.container.network !== "object") return report;
  const { egressDenials } = await import("../warm/egress.ts");
  const denied = await egressDenials(await project.ports.runtime(), project.projectId, report.startedAt ?? undefined);
  return { ...report, egressDenied: denied };
}
