import type { OperatorChannel, OperatorHandler } from "../../core/coordinator-runtime/ports.ts";
import { errorReply, okReply, type Reply, type Request } from "../../core/messaging/protocol.ts";
import { operatorSocketPath, type RunDir } from "../../core/run-dir.ts";
import { ensureRunDir } from "../run-dir.ts";
import { serveNdjson } from "./server.ts";

/**
 * The operator's channel over a Unix socket only the run directory's owner
 * can reach (0600 in a 0700 folder): `send` carries a command's text and is
 * answered with what the coordinator did, `status` says a coordinator
 * listens. The protocol is the workers' (docs/protocol.md).
 */
export class SocketOperatorChannel implements OperatorChannel {
  readonly #runDir: RunDir;

  constructor(runDir: RunDir) {
    this.#runDir = runDir;
  }

  async open(onCommand: OperatorHandler): Promise<() => Promise<void>> {
    await ensureRunDir(this.#runDir);
    const server = await serveNdjson(operatorSocketPath(this.#runDir.path), (request) => answer(request, onCommand), { accepted: ["send", "status"], socketMode: 0o600 });
    return () => server.close();
  }
}

async function answer(request: Request, onCommand: OperatorHandler): Promise<Reply> {
  if (request.cmd === "status") return okReply(request.id, { status: { coordinator: "cspace coordinate", pid: process.pid } });
  const done = await onCommand(request.text ?? "");
  return done.ok ? okReply(request.id, { text: done.text }) : errorReply(request.id, "bad-request", done.error);
}
