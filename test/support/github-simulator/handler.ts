import type { Faults } from "./faults.ts";
import type { World } from "./world.ts";

export interface SimRequest {
  readonly operationId: string;
  /** Path parameters, URL-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: Readonly<Record<string, string>>;
  readonly body: Record<string, unknown>;
}

export interface SimResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface HandlerContext {
  readonly world: World;
  readonly faults: Faults;
}

export type Handler = (context: HandlerContext, request: SimRequest) => Promise<SimResponse>;

export function json(status: number, body: unknown, headers?: Record<string, string>): SimResponse {
  return headers === undefined ? { status, body } : { status, body, headers };
}

export function notFound(): SimResponse {
  return json(404, { message: "Not Found", documentation_url: "https://docs.github.com/rest" });
}

/** GitHub's 422 shape: "Validation Failed" with one error naming what failed. */
export function validationFailed(resource: string, message: string, code = "custom"): SimResponse {
  return json(422, {
    message: "Validation Failed",
    errors: [{ resource, code, message }],
    documentation_url: "https://docs.github.com/rest",
  });
}

export function unprocessable(message: string): SimResponse {
  return json(422, { message, documentation_url: "https://docs.github.com/rest" });
}

export function str(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}
