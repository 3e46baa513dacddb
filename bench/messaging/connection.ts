// One long-lived protocol v1 connection for the benchmark: any number of
// requests in flight, replies matched by id, as a coordinator holding a
// socket open would talk. Built from the product's own framing (protocol.ts,
// lines.ts), so what it measures is the wire and the supervisor, not a
// different parser.
import { createConnection, type Socket } from "node:net";
import { MAX_LINE_BYTES, frame, parseReply, type OkReply, type Request } from "../../src/core/messaging/protocol.ts";
import { LineSplitter } from "../../src/adapters/messaging/lines.ts";

type Waiter = { readonly resolve: (reply: OkReply) => void; readonly reject: (error: Error) => void };

/** A request's fields besides v and id. */
export type Ask = Omit<Request, "v" | "id">;

export class Connection {
  readonly #socket: Socket;
  readonly #waiting = new Map<string, Waiter>();
  #next = 0;
  #failure: Error | null = null;

  private constructor(socket: Socket) {
    this.#socket = socket;
    const splitter = new LineSplitter(16 * MAX_LINE_BYTES, {
      line: (text) => {
        const reply = parseReply(text);
        if (reply === null) {
          this.#fail(new Error(`not a protocol v1 reply: ${text.slice(0, 120)}`));
          return;
        }
        const waiter = reply.id === null ? undefined : this.#waiting.get(reply.id);
        if (waiter === undefined) {
          this.#fail(new Error(`a reply nobody asked for: ${text.slice(0, 120)}`));
          return;
        }
        this.#waiting.delete(reply.id ?? "");
        if (reply.ok) waiter.resolve(reply);
        else waiter.reject(new Error(`${reply.error.code}: ${reply.error.message}`));
      },
      overflow: () => {
        this.#fail(new Error("a reply line is too long"));
      },
    });
    socket.on("data", (chunk: Buffer) => {
      splitter.push(chunk);
    });
    socket.on("error", (error) => {
      this.#fail(error);
    });
    socket.on("close", () => {
      this.#fail(new Error("the supervisor closed the connection"));
    });
  }

  static open(socketPath: string): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = createConnection(socketPath);
      socket.once("error", reject);
      socket.once("connect", () => {
        socket.off("error", reject);
        socket.setNoDelay(true);
        resolve(new Connection(socket));
      });
    });
  }

  request(ask: Ask): Promise<OkReply> {
    if (this.#failure !== null) return Promise.reject(this.#failure);
    this.#next += 1;
    const id = String(this.#next);
    return new Promise((resolve, reject) => {
      this.#waiting.set(id, { resolve, reject });
      this.#socket.write(frame({ ...ask, v: 1, id }));
    });
  }

  close(): void {
    this.#failure ??= new Error("closed");
    this.#socket.end();
  }

  #fail(error: Error): void {
    this.#failure ??= error;
    for (const waiter of this.#waiting.values()) waiter.reject(error);
    this.#waiting.clear();
  }
}

/**
 * Sends `count` requests made by `ask` with at most `window` in flight (1:
 * each waits for the previous reply); resolves once every reply is in.
 */
export async function drive(connection: Connection, count: number, window: number, ask: (index: number) => Ask): Promise<void> {
  let sent = 0;
  const lane = async (): Promise<void> => {
    while (sent < count) {
      const index = sent++;
      await connection.request(ask(index));
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
}
