import http from "node:http";
import net from "node:net";
import { hostAllowed } from "../core/network/allowlist.ts";
import { ALLOWLIST_ENV, PROXY_PORT } from "../core/network/egress.ts";

/**
 * cspace's egress proxy (`node worker.cjs egress-proxy`), run in its own
 * container on a project's internal workers' network and on a bridge out.
 * Workers have no other route, so whatever leaves goes through here:
 *   CONNECT host:port   tunnelled by name (TLS stays end to end; the proxy sees only the name);
 *   GET http://host/…   plain HTTP, forwarded by its absolute URI.
 * Both only to a host on the allowlist (../core/network/allowlist.ts);
 * anything else gets 403 and one JSON line on stdout, which the host reads
 * from the container's log (`egress-denied`).
 */

export interface Denial {
  readonly event: "egress-denied";
  readonly time: string;
  readonly host: string;
  readonly port: number;
  readonly method: string;
  /** The worker's address on the workers' network. */
  readonly from: string;
}

export function runEgressProxy(env: NodeJS.ProcessEnv, out: NodeJS.WritableStream): Promise<never> {
  const allowlist = parseAllowlist(env[ALLOWLIST_ENV]);
  const deny = (host: string, port: number, method: string, from: string | undefined): void => {
    const denial: Denial = { event: "egress-denied", time: new Date().toISOString(), host, port, method, from: from ?? "" };
    out.write(`${JSON.stringify(denial)}\n`);
  };
  const server = http.createServer((request, response) => {
    const target = absoluteTarget(request.url);
    if (target === null) {
      response.writeHead(400, { "content-type": "text/plain" }).end("cspace egress proxy: send requests with an absolute http:// URI, or CONNECT host:port\n");
      return;
    }
    if (!hostAllowed(target.hostname, allowlist)) {
      deny(target.hostname, target.port, request.method ?? "GET", request.socket.remoteAddress);
      response.writeHead(403, { "content-type": "text/plain" }).end(refusal(target.hostname));
      return;
    }
    const headers = { ...request.headers };
    delete headers["proxy-connection"];
    delete headers["proxy-authorization"];
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: request.method, path: target.path, headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on("error", (error) => {
      if (!response.headersSent) response.writeHead(502, { "content-type": "text/plain" });
      response.end(`cspace egress proxy: ${target.hostname}: ${error.message}\n`);
    });
    request.pipe(upstream);
  });
  server.on("connect", (request: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    client.on("error", () => undefined);
    const target = connectTarget(request.url);
    if (target === null) {
      client.end("HTTP/1.1 400 Bad Request\r\ncontent-type: text/plain\r\n\r\ncspace egress proxy: CONNECT takes host:port\n");
      return;
    }
    if (!hostAllowed(target.hostname, allowlist)) {
      deny(target.hostname, target.port, "CONNECT", client.remoteAddress);
      client.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n\r\n${refusal(target.hostname)}`);
      return;
    }
    const upstream = net.connect(target.port, target.hostname, () => {
      client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on("error", (error) => {
      client.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\n\r\ncspace egress proxy: ${target.hostname}: ${error.message}\n`);
    });
    client.on("close", () => upstream.destroy());
  });
  return new Promise<never>((_resolve, reject) => {
    server.on("error", reject);
    server.listen(PROXY_PORT, () => {
      out.write(`${JSON.stringify({ event: "egress-listening", port: PROXY_PORT, allow: allowlist })}\n`);
    });
  });
}

function refusal(host: string): string {
  return `cspace egress proxy: ${host} is not in container.network.allow of this project's .cspace.json\n`;
}

function parseAllowlist(text: string | undefined): string[] {
  const parsed: unknown = JSON.parse(text ?? "[]");
  if (!Array.isArray(parsed) || !parsed.every((host): host is string => typeof host === "string")) {
    throw new Error(`${ALLOWLIST_ENV} must be a JSON list of host names`);
  }
  return parsed;
}

interface Target {
  readonly hostname: string;
  readonly port: number;
  readonly path: string;
}

/** `http://host[:port]/path` (plain HTTP through a proxy); null for anything else. */
function absoluteTarget(url: string | undefined): Target | null {
  if (url === undefined || !/^http:\/\//i.test(url)) return null;
  try {
    const parsed = new URL(url);
    if (parsed.username !== "" || parsed.password !== "") return null;
    return { hostname: bareHost(parsed.hostname), port: parsed.port === "" ? 80 : Number(parsed.port), path: `${parsed.pathname}${parsed.search}` };
  } catch {
    return null;
  }
}

/** CONNECT's `host:port` (`[v6]:port` for IPv6); null for anything else. */
function connectTarget(authority: string | undefined): Target | null {
  if (authority === undefined || !/^[^/@\s]+:\d{1,5}$/.test(authority)) return null;
  try {
    const parsed = new URL(`http://${authority}`);
    const port = Number(parsed.port === "" ? 80 : parsed.port);
    return port > 0 && port < 65536 ? { hostname: bareHost(parsed.hostname), port, path: "" } : null;
  } catch {
    return null;
  }
}

/** The URL parser keeps IPv6 brackets; sockets and the allowlist want the bare address. */
function bareHost(hostname: string): string {
  return hostname.startsWith("[") && hostname.endsWith("]") ? hostname.slice(1, -1) : hostname;
}

/**
 * `node worker.cjs egress-proxy ready`: exits 0 once the proxy in this
 * container accepts connections, 1 when it has not within `limitMs`. Warm
 * runs it after starting the proxy, so a worker's first request never races it.
 */
export async function waitForProxy(limitMs: number): Promise<number> {
  const until = Date.now() + limitMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(PROXY_PORT, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.on("error", () => {
        resolve(false);
      });
    });
    if (open) return 0;
    if (Date.now() > until) return 1;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
