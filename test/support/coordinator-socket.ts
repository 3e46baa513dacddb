import { serveNdjson, type NdjsonServer } from "../../src/adapters/messaging/server.ts";
import type { WorkerReport } from "../../src/core/agents/worker-status.ts";
import { COORDINATOR_COMMANDS, errorReply, okReply, type Reply, type Request } from "../../src/core/messaging/protocol.ts";

/**
 * A stand-in coordinator for one instance: listens on that instance's
 * c.sock, persists each report once by id (a duplicate is acknowledged and
 * dropped, as docs/protocol.md asks of a coordinator), records workers'
 * messages, and answers `status`. Whatever arrives here comes from this
 * instance: the socket is the sender's identity.
 */
export interface TestCoordinator {
  readonly instance: string;
  /** Reports persisted, first arrival of each id, in order. */
  readonly reports: WorkerReport[];
  /** Every report request, duplicates included (ids only). */
  readonly received: string[];
  /** `send` requests: what the worker said, and who it claimed to be. */
  readonly messages: { readonly text: string; readonly from: string | null }[];
  /** Resolves with the first persisted report that matches (already here, or when it comes). */
  waitForReport(match?: (report: WorkerReport) => boolean, timeoutMs?: number): Promise<WorkerReport>;
  waitForMessage(match?: (text: string) => boolean, timeoutMs?: number): Promise<{ readonly text: string; readonly from: string | null }>;
  close(): Promise<void>;
}

export interface TestCoordinatorOptions {
  /**
   * The socket's mode. 0o660 by default: the worker's supervisor may run as
   * another uid sharing the instance directory's group.
   */
  readonly socketMode?: number;
  /** Refuse reports (an error reply) while this says so: the sender must keep them in its outbox. */
  readonly refuseReports?: () => boolean;
}

export async function listenAsCoordinator(socketPath: string, instance: string, options: TestCoordinatorOptions = {}): Promise<TestCoordinator> {
  const reports: WorkerReport[] = [];
  const received: string[] = [];
  const messages: { text: string; from: string | null }[] = [];
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const handle = (request: Request): Reply => {
    switch (request.cmd) {
      case "report": {
        const report = request.report as WorkerReport;
        if (options.refuseReports?.() === true) return errorReply(request.id, "internal", "the test coordinator refuses reports now");
        received.push(report.id);
        if (!reports.some((r) => r.id === report.id)) reports.push(report);
        notify();
        return okReply(request.id);
      }
      case "send":
        messages.push({ text: request.text ?? "", from: request.from ?? null });
        notify();
        return okReply(request.id, { delivered: true });
      case "status":
        return okReply(request.id, { status: { coordinator: "test", instance } });
      case "interrupt":
      case "shutdown":
        return errorReply(request.id, "unknown-command", `${request.cmd} is not a coordinator command`);
    }
  };
  const server: NdjsonServer = await serveNdjson(socketPath, handle, { accepted: COORDINATOR_COMMANDS, socketMode: options.socketMode ?? 0o660 });

  const waitFor = <T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const found = find();
        if (found === undefined) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`the test coordinator of ${instance} got no ${what} within ${String(timeoutMs)} ms (reports: ${JSON.stringify(received)}, messages: ${JSON.stringify(messages)})`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  return {
    instance,
    reports,
    received,
    messages,
    waitForReport: (match = () => true, timeoutMs = 30_000) => waitFor(() => reports.find(match), "matching report", timeoutMs),
    waitForMessage: (match = () => true, timeoutMs = 30_000) => waitFor(() => messages.find((m) => match(m.text)), "matching message", timeoutMs),
    close: () => server.close(),
  };
}
