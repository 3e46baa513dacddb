import { ExternalError, type CspaceError } from "../../../core/errors.ts";
import { ForgeNotFoundError, ForgeUnauthorizedError, ForgeUnavailableError, RateLimitedError } from "../../../core/forge/errors.ts";

/** What cspace reads of an octokit RequestError. */
export interface HttpFailure {
  readonly status: number;
  readonly message: string;
  readonly headers: Readonly<Record<string, string | number | undefined>>;
  /** GitHub's `errors` array on a 422: which field failed, and how. */
  readonly fieldErrors: readonly { readonly field?: string | undefined; readonly code?: string | undefined; readonly message?: string | undefined }[];
}

export function httpFailure(error: unknown): HttpFailure | null {
  if (!(error instanceof Error) || !("status" in error) || typeof error.status !== "number") return null;
  const response = "response" in error && typeof error.response === "object" && error.response !== null ? error.response : {};
  const headers = "headers" in response && typeof response.headers === "object" && response.headers !== null ? (response.headers as HttpFailure["headers"]) : {};
  const data = "data" in response && typeof response.data === "object" && response.data !== null ? response.data : {};
  const message = "message" in data && typeof data.message === "string" ? data.message : error.message;
  const rawErrors = "errors" in data && Array.isArray(data.errors) ? (data.errors as unknown[]) : [];
  const fieldErrors = rawErrors.map((e) => {
    const item = typeof e === "object" && e !== null ? (e as Record<string, unknown>) : {};
    return { field: stringOr(item.field), code: stringOr(item.code), message: stringOr(item.message) };
  });
  return { status: error.status, message, headers, fieldErrors };
}

function stringOr(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** GitHub's documented wordings for limits; the throttling plugin keys on the same words. */
export function isRateLimit(failure: HttpFailure): boolean {
  if (failure.status === 429) return true;
  return failure.status === 403 && (failure.headers["x-ratelimit-remaining"] === "0" || /\brate limit\b/i.test(failure.message));
}

/** The passing 405 GitHub answers while another merge lands on the base. */
export function isBaseModified(failure: HttpFailure): boolean {
  return failure.status === 405 && /base branch was modified/i.test(failure.message);
}

export function retryAtOf(failure: HttpFailure, now = Date.now()): Date {
  const retryAfter = Number(failure.headers["retry-after"]);
  if (Number.isFinite(retryAfter) && retryAfter > 0) return new Date(now + retryAfter * 1000);
  const reset = Number(failure.headers["x-ratelimit-reset"]);
  if (failure.headers["x-ratelimit-remaining"] === "0" && Number.isFinite(reset) && reset > 0) return new Date(reset * 1000);
  return new Date(now + 60_000);
}

/**
 * Turns an octokit failure into a typed forge error by status (and the two
 * documented rate-limit wordings), never by other message text.
 * `what` names the operation for the message, e.g. "read pull request #5".
 */
export function toForgeError(error: unknown, what: string, apiUrl: string): CspaceError {
  const failure = httpFailure(error);
  if (failure === null || failure.status >= 500 || failure.status < 100) {
    const reason = error instanceof Error ? error.message : String(error);
    return new ForgeUnavailableError(`GitHub could not ${what}: ${reason}`, { cause: error, hint: `Check that ${apiUrl} is reachable; cspace retried already.` });
  }
  if (isRateLimit(failure)) {
    const retryAt = retryAtOf(failure);
    return new RateLimitedError(`GitHub rate-limited the request to ${what} (${failure.status}: ${failure.message})`, { retryAt, cause: error, hint: `Try again after ${retryAt.toISOString()}.` });
  }
  switch (failure.status) {
    case 401:
      return new ForgeUnauthorizedError(`GitHub refused the token while trying to ${what} (401 ${failure.message})`, {
        cause: error,
        hint: "The token is wrong, expired or revoked: set GH_TOKEN or GITHUB_TOKEN, or run `gh auth login`.",
      });
    case 403:
      return new ForgeUnauthorizedError(`GitHub forbade the request to ${what} (403 ${failure.message})`, {
        cause: error,
        hint: "The token lacks a permission: it needs repo contents, issues and pull requests read/write.",
      });
    case 301:
    case 404:
    case 410:
      return new ForgeNotFoundError(`GitHub could not ${what}: not found (${failure.status} ${failure.message})`, { cause: error });
    default:
      return new ExternalError(`GitHub refused to ${what} (${failure.status} ${failure.message})`, { cause: error });
  }
}
