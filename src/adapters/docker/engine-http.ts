import { request, type Agent } from "node:http";
import type { DockerEndpoint } from "./endpoint.ts";

/**
 * A small Engine API client for the read-only calls `list`, `exec`, `down`
 * and warm's checks make first: ping, list by label, inspect. Still the
 * Engine API (design.md: never the docker CLI), without dockerode, which
 * loads ssh2, grpc-js and protobufjs (some 650 modules) before its first
 * request: for `cspace list` that was most of the command's time.
 *
 * Plain HTTP only, over the unix socket (or Windows named pipe) or tcp://
 * without TLS. ssh:// and TLS endpoints (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH,
 * port 2376) get no lean client and go through dockerode, which handles them.
 * Paths are unversioned, as dockerode sends them: the engine answers in its
 * own API version.
 */
export interface EngineHttp {
  /** The parsed JSON body of a 2xx answer; an EngineHttpError for any other status. */
  getJson(path: string, options?: RequestOptions): Promise<unknown>;
  /** The body of a 2xx answer as text (`/_ping` answers "OK"). */
  getText(path: string, options?: RequestOptions): Promise<string>;
}

export interface RequestOptions {
  /** Fails when the engine sends nothing for this long. */
  readonly timeoutMs?: number;
}

/**
 * What the engine answered with a status other than 2xx, shaped like a
 * dockerode error (statusCode, json), so ./errors.ts reads both alike.
 */
export class EngineHttpError extends Error {
  override readonly name = "EngineHttpError";
  readonly statusCode: number;
  readonly json: unknown;

  constructor(statusCode: number, json: unknown, text: string) {
    const said = messageIn(json) ?? (text.trim() || "no message");
    super(`(HTTP code ${String(statusCode)}) ${said}`);
    this.statusCode = statusCode;
    this.json = json;
  }
}

/** Requests idle longer than this fail, so a wedged engine is an error rather than a hang. */
const DEFAULT_TIMEOUT_MS = 60_000;

/** The lean client for this endpoint, or null when only dockerode can speak to it (ssh, TLS). */
export function engineHttpFor(endpoint: DockerEndpoint): EngineHttp | null {
  const { socketPath, protocol, host, port } = endpoint.options;
  // An agent of the endpoint's own carries the connection (a remote engine's socket forwarded over SSH).
  if (socketPath !== undefined && socketPath !== "") return new PlainHttpEngine({ socketPath }, endpoint.agent);
  if (protocol === "http" && host !== undefined && host !== "") return new PlainHttpEngine({ host, port: Number(port ?? 2375) });
  return null;
}

type Target = { readonly socketPath: string } | { readonly host: string; readonly port: number };

class PlainHttpEngine implements EngineHttp {
  readonly #target: Target;
  readonly #agent: Agent | false;

  constructor(target: Target, agent?: Agent) {
    this.#target = target;
    this.#agent = agent ?? false;
  }

  async getJson(path: string, options: RequestOptions = {}): Promise<unknown> {
    const text = await this.getText(path, options);
    return text === "" ? null : (JSON.parse(text) as unknown);
  }

  getText(path: string, options: RequestOptions = {}): Promise<string> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise<string>((resolve, reject) => {
      // agent: false unless the endpoint has one, so no kept-alive socket holds the process open after its last request.
      const req = request({ ...this.#target, path, method: "GET", agent: this.#agent, headers: { Accept: "application/json" } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(text);
          else reject(new EngineHttpError(status, parseOrNull(text), text));
        });
      });
      req.setTimeout(timeoutMs, () => {
        req.destroy(new Error(`no answer within ${String(timeoutMs / 1000)} s`));
      });
      req.on("error", reject);
      req.end();
    });
  }
}

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

function messageIn(json: unknown): string | undefined {
  if (typeof json === "object" && json !== null && "message" in json && typeof json.message === "string") return json.message;
  return undefined;
}
