import { ExternalError, UserError, type ErrorDetails } from "../errors.ts";

/**
 * Forge failures the coordinator tells apart by type, never by message text.
 * Each is an ExternalError (exit 3) except a missing issue named by the user.
 */
export class ForgeNotFoundError extends UserError {
  override readonly name = "ForgeNotFoundError";
}

/** Not mergeable (conflicts), or a branch exists at another sha. */
export class ForgeConflictError extends ExternalError {
  override readonly name = "ForgeConflictError";
  readonly paths: readonly string[];
  constructor(message: string, details: ErrorDetails & { readonly paths?: readonly string[] } = {}) {
    super(message, details);
    this.paths = details.paths ?? [];
  }
}

/** A branch or pull request head is not at the sha the caller expected. */
export class HeadMovedError extends ExternalError {
  override readonly name = "HeadMovedError";
  readonly expectedSha: string | null;
  readonly actualSha: string | null;
  constructor(message: string, details: ErrorDetails & { readonly expectedSha: string | null; readonly actualSha: string | null }) {
    super(message, details);
    this.expectedSha = details.expectedSha;
    this.actualSha = details.actualSha;
  }
}

export class RateLimitedError extends ExternalError {
  override readonly name = "RateLimitedError";
  /** When a retry may succeed. */
  readonly retryAt: Date;
  constructor(message: string, details: ErrorDetails & { readonly retryAt: Date }) {
    super(message, details);
    this.retryAt = details.retryAt;
  }
}

export class ForgeUnavailableError extends ExternalError {
  override readonly name = "ForgeUnavailableError";
}

export class ForgeUnauthorizedError extends ExternalError {
  override readonly name = "ForgeUnauthorizedError";
}
