import { spawn } from "node:child_process";
import type { IncomingMessage, ServerResponse } from "node:http";
import path from "node:path";
import { bearsToken } from "./authorization.ts";
import type { World } from "./world.ts";

/**
 * git's smart HTTP protocol, served by git's own CGI (`git http-backend`)
 * behind the token check the REST API uses: real pushes, real pack
 * negotiation, real 401 challenges. The repository is served at
 * `/<owner>/<name>.git` on the simulator's host, where a client derives it
 * from the API URL (as on GitHub Enterprise: same host, no `/api/v3`).
 */

export interface GitRequest {
  readonly method: string;
  /** `info/refs?service=git-receive-pack`, `git-upload-pack`, … */
  readonly service: string;
  readonly status: number;
}

/** Holds the next git request until released: tests look at the client's processes while it waits. */
export class GitGate {
  #held: { arrived: () => void; released: Promise<void> } | null = null;

  hold(): { readonly arrived: Promise<void>; release(): void } {
    let arrived!: () => void;
    let release!: () => void;
    const arrival = new Promise<void>((resolve) => (arrived = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.#held = { arrived, released };
    return { arrived: arrival, release };
  }

  async pass(): Promise<void> {
    const held = this.#held;
    if (held === null) return;
    this.#held = null;
    held.arrived();
    await held.released;
  }
}

const GIT_PATH = /^\/([^/]+)\/([^/]+?)(?:\.git)?\/(info\/refs|git-upload-pack|git-receive-pack|HEAD)$/;

/** The repository path and what is asked of it, when `pathname` is a git request. */
export function gitRoute(pathname: string): { owner: string; name: string; rest: string } | null {
  const match = GIT_PATH.exec(pathname);
  if (match?.[1] === undefined || match[2] === undefined || match[3] === undefined) return null;
  return { owner: match[1], name: match[2], rest: match[3] };
}

export async function serveGit(
  context: { readonly world: World; readonly token: string; readonly gate: GitGate; readonly log: GitRequest[] },
  route: { owner: string; name: string; rest: string },
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://simulator");
  const method = req.method ?? "GET";
  const service = `${route.rest}${url.search}`;
  const reply = (status: number, headers: Record<string, string>, body: string): void => {
    context.log.push({ method, service, status });
    res.writeHead(status, headers).end(body);
  };
  await context.gate.pass();
  if (!bearsToken(req.headers.authorization, context.token)) {
    // What GitHub answers a git client without (valid) credentials.
    reply(401, { "www-authenticate": 'Basic realm="GitHub"', "content-type": "text/plain" }, "Invalid username or token.\n");
    req.resume();
    return;
  }
  const { world } = context;
  if (route.owner !== world.owner || route.name !== world.name) {
    reply(404, { "content-type": "text/plain" }, "Repository not found.\n");
    req.resume();
    return;
  }
  const status = await runBackend(world.git.dir, route.rest, url.search.slice(1), req, res);
  context.log.push({ method, service, status });
}

/** Runs `git http-backend` for one request and relays its CGI answer; resolves with the status sent. */
function runBackend(repoDir: string, rest: string, query: string, req: IncomingMessage, res: ServerResponse): Promise<number> {
  const header = (name: string): string => {
    const value = req.headers[name];
    return typeof value === "string" ? value : "";
  };
  const child = spawn("git", ["http-backend"], {
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_PROJECT_ROOT: path.dirname(repoDir),
      PATH_INFO: `/${path.basename(repoDir)}/${rest}`,
      GIT_HTTP_EXPORT_ALL: "1",
      REQUEST_METHOD: req.method ?? "GET",
      QUERY_STRING: query,
      CONTENT_TYPE: header("content-type"),
      HTTP_CONTENT_ENCODING: header("content-encoding"),
      GIT_PROTOCOL: header("git-protocol"),
      // Set only once the token was checked: http-backend enables receive-pack for an authenticated user only.
      REMOTE_USER: "x-access-token",
      REMOTE_ADDR: "127.0.0.1",
    },
    stdio: ["pipe", "pipe", "pipe"],
  });
  req.pipe(child.stdin);
  return new Promise((resolve, reject) => {
    let head = Buffer.alloc(0);
    let status = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      if (status !== 0) {
        res.write(chunk);
        return;
      }
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      const headers: Record<string, string> = {};
      status = 200;
      for (const line of head.subarray(0, end).toString("latin1").split("\r\n")) {
        const colon = line.indexOf(":");
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        if (name === "status") status = Number.parseInt(value, 10);
        else if (name !== "") headers[name] = value;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    child.on("error", reject);
    child.on("close", (code) => {
      if (status === 0) {
        status = 500;
        res.writeHead(500, { "content-type": "text/plain" }).end(`git http-backend exited with ${String(code)}\n`);
      } else {
        res.end();
      }
      resolve(status);
    });
  });
}
