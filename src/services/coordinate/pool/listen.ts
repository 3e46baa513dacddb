import { instanceDirExists } from "../../workers/host-files.ts";
import { serveNdjson, type NdjsonServer } from "../../../adapters/messaging/server.ts";
import type { WorkerReport } from "../../../core/agents/worker-status.ts";
import type { WorkerHandlers } from "../../../core/coordinator-runtime/ports.ts";
import { COORDINATOR_COMMANDS, COORDINATOR_MAX_LINE_BYTES, errorReply, MAX_WORKER_MESSAGE_BYTES, okReply, type Reply, type Request } from "../../../core/messaging/protocol.ts";
import { WORKER_RATE_LIMIT } from "../../../core/messaging/rate-limit.ts";
import { pathsOf, type PoolContext } from "./context.ts";

/**
 * The coordinator's end of every instance's c.sock. Instances are served as
 * soon as their directory exists: the runtime names them all before any is
 * warmed, so the pool asks again after each warm and launch (`ensure`).
 */
export class CoordinatorSockets {
  readonly #context: PoolContext;
  readonly #servers = new Map<string, Promise<NdjsonServer | null>>();
  #handlers: WorkerHandlers | null = null;

  constructor(context: PoolContext) {
    this.#context = context;
  }

  async listen(instances: readonly string[], handlers: WorkerHandlers): Promise<void> {
    this.#handlers = handlers;
    await Promise.all(instances.map((instance) => this.ensure(instance)));
  }

  /** Serves the instance's socket when someone listens and its directory exists; a no-op once served. */
  async ensure(instance: string): Promise<void> {
    if (this.#handlers === null) return;
    const existing = this.#servers.get(instance);
    if (existing !== undefined && (await existing) !== null) return;
    const started = this.#serve(instance);
    this.#servers.set(instance, started);
    // A socket that could not be served is tried again on the next ensure.
    await started.catch((error: unknown) => {
      if (this.#servers.get(instance) === started) this.#servers.delete(instance);
      throw error;
    });
  }

  async close(): Promise<void> {
    this.#handlers = null;
    const servers = await Promise.all([...this.#servers.values()].map((server) => server.catch(() => null)));
    this.#servers.clear();
    await Promise.all(servers.map((server) => (server === null ? Promise.resolve() : server.close())));
  }

  async #serve(instance: string): Promise<NdjsonServer | null> {
    const paths = pathsOf(this.#context, instance);
    const exists = await instanceDirExists(paths);
    if (!exists) return null;
    // 0660: the supervisor runs as the container user, who shares the instance directory's group (mode 2770).
    // Whatever comes on c.sock is the worker's, and the worker is not trusted: lines, messages and their rate are bounded.
    return serveNdjson(paths.coordinatorSocket, (request) => this.#answer(instance, request), {
      accepted: COORDINATOR_COMMANDS,
      socketMode: 0o660,
      maxLineBytes: COORDINATOR_MAX_LINE_BYTES,
      maxSendTextBytes: MAX_WORKER_MESSAGE_BYTES,
      rateLimit: WORKER_RATE_LIMIT,
      onRateLimited: (refusal) => this.#handlers?.rateLimited?.(instance, refusal),
    });
  }

  async #answer(instance: string, request: Request): Promise<Reply> {
    switch (request.cmd) {
      case "report": {
        const handlers = this.#handlers;
        if (handlers === null) return errorReply(request.id, "internal", "the coordinator is closing; keep the report in the outbox");
        // Acknowledged only once persisted: an error reply leaves it in the worker's outbox for collectPending.
        await handlers.report(instance, request.report as WorkerReport);
        return okReply(request.id);
      }
      case "send": {
        const handlers = this.#handlers;
        if (handlers === null) return errorReply(request.id, "internal", "the coordinator is closing; send it again to the next one");
        await handlers.message(instance, request.text ?? "");
        return okReply(request.id, { delivered: true });
      }
      case "status":
        return okReply(request.id, { status: { coordinator: "cspace coordinate", project: this.#context.project.projectId, instance } });
      case "interrupt":
      case "shutdown":
        return errorReply(request.id, "unknown-command", `${request.cmd} is not a coordinator command`);
    }
  }
}
