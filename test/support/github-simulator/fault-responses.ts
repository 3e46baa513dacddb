import type { SimResponse } from "./handler.ts";

/** Rate-limit answers with GitHub's real headers and wording (the throttling plugin keys on both). */
const resetIn = (seconds: number): string => String(Math.floor(Date.now() / 1000) + seconds);

export function secondaryLimit(status: 403 | 429): SimResponse {
  return {
    status,
    headers: { "retry-after": "1", "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4990", "x-ratelimit-reset": resetIn(3600), "x-ratelimit-resource": "core" },
    body: {
      message: "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.",
      documentation_url: "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
    },
  };
}

export function primaryLimit(status: 403 | 429): SimResponse {
  return {
    status,
    headers: { "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000", "x-ratelimit-reset": resetIn(1), "x-ratelimit-resource": "core" },
    body: {
      message: "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID 0000:0000:0000000:0000000:00000000.",
      documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
    },
  };
}
