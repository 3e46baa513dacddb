import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { Octokit } from "@octokit/rest";
import Bottleneck from "bottleneck";
import { defaultGithubApiUrl } from "./auth-check.ts";

/** How the client paces and retries; the defaults are GitHub's advice, tests shrink them. */
export interface GithubThrottle {
  /** Spacing between writes (octokit's default 1 s). */
  readonly writeSpacingMs?: number | undefined;
  /** Spacing between writes that notify people: PR creation, merges, comments (default 3 s). */
  readonly notificationSpacingMs?: number | undefined;
  /** Milliseconds per second of `retry-after` and per unit of retry backoff (default 1000). */
  readonly retryBaseMs?: number | undefined;
  /** Rate-limited requests retried at most this many times (default 2). */
  readonly rateLimitRetries?: number | undefined;
  /** A limit that resets later than this is not waited for: RateLimitedError instead (default 60 s). */
  readonly maxRateLimitWaitSeconds?: number | undefined;
  /** Server errors and network failures retried at most this many times (default 3). */
  readonly serverErrorRetries?: number | undefined;
}

export type GithubClient = InstanceType<ReturnType<typeof clientClass>>;

const clientClass = () => Octokit.plugin(throttling, retry);
const silent = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
let instances = 0;

/**
 * An octokit with throttling and retries. 405 and 409 are never retried (a
 * merge that was refused or whose head moved must not be repeated blindly);
 * 403 and 429 are left to the throttling plugin, which honours `retry-after`
 * and `x-ratelimit-reset`. Logging is off, so nothing can print the token.
 */
export function createGithubClient(input: { readonly token: string; readonly apiUrl?: string | undefined; readonly throttle?: GithubThrottle | undefined }): GithubClient {
  const throttle = input.throttle ?? {};
  const retryBase = throttle.retryBaseMs ?? 1000;
  const limitRetries = throttle.rateLimitRetries ?? 2;
  const maxWait = throttle.maxRateLimitWaitSeconds ?? 60;
  const shouldRetry = (retryAfter: number, _options: unknown, _octokit: unknown, retryCount: number): boolean =>
    retryCount < limitRetries && retryAfter <= maxWait;
  const id = `cspace-${process.pid}-${++instances}`;
  const Client = clientClass();
  return new Client({
    auth: input.token,
    baseUrl: (input.apiUrl ?? defaultGithubApiUrl).replace(/\/+$/, ""),
    userAgent: "cspace",
    log: silent,
    throttle: {
      id,
      retryAfterBaseValue: retryBase,
      fallbackSecondaryRateRetryAfter: 60,
      // Own groups per client, so one forge's spacing never slows another's.
      write: new Bottleneck.Group({ maxConcurrent: 1, minTime: throttle.writeSpacingMs ?? 1000 }),
      notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: throttle.notificationSpacingMs ?? 3000 }),
      onRateLimit: shouldRetry,
      onSecondaryRateLimit: shouldRetry,
    },
    retry: {
      doNotRetry: [400, 401, 403, 404, 405, 409, 410, 422, 429, 451],
      retries: throttle.serverErrorRetries ?? 3,
      retryAfterBaseValue: retryBase,
    },
  });
}
