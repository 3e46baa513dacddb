import { Agent, type ClientRequestArgs } from "node:http";
import type { Duplex } from "node:stream";
import { inspect } from "node:util";
import type { SshConnection } from "./connection.ts";

/**
 * An http.Agent whose connections are channels of one SSH connection, each
 * a forward of the remote engine's Unix socket: dockerode (through
 * docker-modem's `agent` option) and the lean reader in ../engine-http.ts
 * speak plain HTTP to the engine over them, hijacked execs included (an
 * upgraded request keeps its channel as the exec's stream).
 *
 * Not kept alive: a channel serves one request and closes with it, so no
 * idle channel is left to fail when the connection is replaced.
 */
export class SshEngineAgent extends Agent {
  readonly #connection: SshConnection;

  constructor(connection: SshConnection) {
    super({ keepAlive: false });
    this.#connection = connection;
  }

  /**
   * docker-modem formats every request's options with util.inspect (all
   * depths, hidden properties too) before its debug logger decides whether
   * to print them: through this agent that walked the whole SSH client and
   * every open channel, and 20 concurrent execs spent 20 s of CPU on it.
   */
  [inspect.custom](): string {
    return `SshEngineAgent(${this.#connection.target.url})`;
  }

  override createConnection(_options: ClientRequestArgs, callback?: (error: Error | null, socket: Duplex) => void): Duplex | null | undefined {
    // Node's own agent calls back with the error alone when no connection can be made; its types insist on a socket.
    const failed = callback as ((error: Error) => void) | undefined;
    this.#connection.openEngineChannel().then(
      (channel) => {
        callback?.(null, channel);
      },
      (error: unknown) => {
        failed?.(error instanceof Error ? error : new Error(String(error)));
      },
    );
    // Asynchronous: the agent waits for the callback.
    return undefined;
  }
}
