import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { primaryLimit, secondaryLimit } from "./fault-responses.ts";
import { Faults } from "./faults.ts";
import { bearsToken } from "./authorization.ts";
import { BareRepository } from "./git.ts";
import type { Handler, SimResponse } from "./handler.ts";
import { issueHandlers } from "./handlers-issues.ts";
import { pullHandlers } from "./handlers-pulls.ts";
import { repoHandlers } from "./handlers-repo.ts";
import { loadGithubDescription, type GithubDescription } from "./openapi.ts";
import { GitGate, gitRoute, serveGit, type GitRequest } from "./smart-http.ts";
import type { World } from "./world.ts";

export interface RecordedRequest {
  readonly method: string;
  /** The path as sent, still URL-encoded. */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly body: unknown;
  /** null when the request matched no operation of the description. */
  readonly operationId: string | null;
  readonly status: number;
}

export interface GithubSimulator {
  /** The API base URL to give octokit (`apiUrl`). */
  readonly url: string;
  /** `owner/name`. */
  readonly repo: string;
  /** Where git pushes and fetches over smart HTTP: `<url>/<owner>/<name>.git`, behind the same token. */
  readonly gitUrl: string;
  readonly token: string;
  readonly world: World;
  readonly faults: Faults;
  readonly requests: readonly RecordedRequest[];
  /** Requests to the git smart HTTP endpoint (`<url>/<owner>/<name>.git`), apart from the REST ones. */
  readonly gitRequests: readonly GitRequest[];
  /** `gitGate.hold()` keeps the next git request waiting until released. */
  readonly gitGate: GitGate;
  /** Requests that match no operation or violate their schema, and responses that violate theirs. */
  readonly violations: readonly string[];
  /** Throws listing every violation: call it after each test. */
  assertNoViolations(): void;
  /** Forgets recorded requests and violations (not the world). */
  resetRecords(): void;
  close(): Promise<void>;
}

const handlers: Readonly<Record<string, Handler>> = { ...issueHandlers, ...pullHandlers, ...repoHandlers };

/** Starts a simulator for one repository on a loopback port, backed by a fresh bare repository. */
export async function startGithubSimulator(options: { readonly repo?: string; readonly defaultBranch?: string; readonly token?: string } = {}): Promise<GithubSimulator> {
  const description = await loadGithubDescription();
  const [owner = "octo", name = "widgets"] = (options.repo ?? "octo/widgets").split("/");
  const token = options.token ?? "simulator-token";
  const git = await BareRepository.create(options.defaultBranch ?? "main");
  const requests: RecordedRequest[] = [];
  const violations: string[] = [];
  const faults = new Faults();
  const gitRequests: GitRequest[] = [];
  const gitGate = new GitGate();
  const world: World = {
    owner,
    name,
    defaultBranch: options.defaultBranch ?? "main",
    baseUrl: "",
    git,
    issues: new Map(),
    pulls: new Map(),
    milestones: new Map(),
    statuses: new Map(),
    checkRuns: new Map(),
    nextNumber: 1,
    nextId: 1000,
  };
  // One request at a time: GitHub's own ordering is not what the tests are about.
  let queue: Promise<unknown> = Promise.resolve();
  const server = createServer((req, res) => {
    // git's requests bypass the REST queue and its OpenAPI checks: git serialises its own ref updates.
    const route = gitRoute(new URL(req.url ?? "/", "http://simulator").pathname);
    if (route !== null) {
      serveGit({ world, token, gate: gitGate, log: gitRequests }, route, req, res).catch((error: unknown) => {
        violations.push(`simulator git failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
        if (!res.headersSent) res.writeHead(500).end();
      });
      return;
    }
    queue = queue.then(() => serve({ description, world, faults, token, requests, violations }, req, res)).catch((error: unknown) => {
      violations.push(`simulator failure: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  world.baseUrl = url;

  return {
    url,
    repo: `${owner}/${name}`,
    gitUrl: `${url}/${owner}/${name}.git`,
    token,
    world,
    faults,
    requests,
    gitRequests,
    gitGate,
    violations,
    assertNoViolations() {
      if (violations.length > 0) throw new Error(`the GitHub simulator recorded ${violations.length} violation(s):\n${violations.join("\n")}`);
    },
    resetRecords() {
      requests.length = 0;
      gitRequests.length = 0;
      violations.length = 0;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => {
        resolve();
      }));
      await git.remove();
    },
  };
}

interface ServeContext {
  readonly description: GithubDescription;
  readonly world: World;
  readonly faults: Faults;
  readonly token: string;
  readonly requests: RecordedRequest[];
  readonly violations: string[];
}

async function serve(context: ServeContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { description, world, violations } = context;
  const raw = await readBody(req);
  const url = new URL(req.url ?? "/", world.baseUrl);
  const method = (req.method ?? "GET").toLowerCase();
  const query = Object.fromEntries(url.searchParams);
  let body: unknown = undefined;
  const record = (operationId: string | null, response: SimResponse): void => {
    context.requests.push({ method: method.toUpperCase(), path: url.pathname, query, body, operationId, status: response.status });
    send(res, response);
  };
  try {
    body = raw === "" ? undefined : JSON.parse(raw);
  } catch {
    violations.push(`${method.toUpperCase()} ${url.pathname}: body is not JSON`);
    record(null, { status: 400, body: { message: "Problems parsing JSON" } });
    return;
  }
  const headers = Object.fromEntries(Object.entries(req.headers).filter((e): e is [string, string] => typeof e[1] === "string"));
  const request = { method, path: url.pathname, headers, query, body };
  const operation = description.backend.matchOperation(request);
  if (operation === undefined) {
    violations.push(`${method.toUpperCase()} ${url.pathname}: matches no operation of GitHub's REST description`);
    record(null, { status: 400, body: { message: `No operation for ${method.toUpperCase()} ${url.pathname}` } });
    return;
  }
  const operationId = operation.operationId ?? `${method} ${operation.path}`;
  const validation = description.backend.validateRequest(request, operation);
  if (!validation.valid) {
    const problems = (validation.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? e.keyword}`);
    violations.push(`${operationId} (${method.toUpperCase()} ${url.pathname}): request violates its schema: ${problems.join("; ")}`);
    record(operationId, { status: 422, body: { message: "Invalid request.", errors: problems } });
    return;
  }
  const response = await respond(context, operationId, operation.path, url.pathname, query, body, req.headers.authorization);
  if (response.status < 500 && response.body !== undefined) {
    for (const problem of description.checkResponse(operationId, response.status, response.body)) violations.push(`response ${problem}`);
  }
  record(operationId, response);
}

async function respond(
  context: ServeContext,
  operationId: string,
  template: string,
  path: string,
  query: Record<string, string>,
  body: unknown,
  authorization: string | undefined,
): Promise<SimResponse> {
  const { world, faults } = context;
  if (!bearsToken(authorization, context.token)) {
    return { status: 401, body: { message: "Bad credentials", documentation_url: "https://docs.github.com/rest" } };
  }
  const params = pathParams(template, path);
  if (params.owner !== undefined && (params.owner !== world.owner || params.repo !== world.name)) return { status: 404, body: { message: "Not Found" } };
  if (faults.take("server-error", operationId) !== false) return { status: 500, body: { message: "Server Error" } };
  const secondary = faults.take("secondary-rate-limit", operationId);
  if (secondary !== false) return secondaryLimit(secondary.status);
  const primary = faults.take("primary-rate-limit", operationId);
  if (primary !== false) return primaryLimit(primary.status);
  const handler = handlers[operationId];
  if (handler === undefined) {
    context.violations.push(`${operationId}: a valid request the simulator does not implement`);
    return { status: 501, body: { message: `the simulator does not implement ${operationId}` } };
  }
  const plain = typeof body === "object" && body !== null && !Array.isArray(body) ? { ...body } : {};
  return handler({ world, faults }, { operationId, params, query, body: plain });
}

/** Path parameters by the template's names, URL-decoded (refs arrive as `heads%2Ffeature%2Fx`). */
function pathParams(template: string, path: string): Record<string, string> {
  const names: string[] = [];
  const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{([^}]+)\}/g, (_m, n: string) => (names.push(n), "([^/]+)"))}/?$`);
  const match = pattern.exec(path);
  const params: Record<string, string> = {};
  names.forEach((n, i) => {
    const value = match?.[i + 1];
    if (value !== undefined) params[n] = decodeURIComponent(value);
  });
  return params;
}

function send(res: ServerResponse, response: SimResponse): void {
  const payload = response.body === undefined ? "" : JSON.stringify(response.body);
  res.writeHead(response.status, { ...(payload === "" ? {} : { "content-type": "application/json; charset=utf-8" }), ...response.headers });
  res.end(payload);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      resolve(Buffer.concat(chunks).toString("utf8"));
    });
    req.on("error", reject);
  });
}
