/**
 * Every failure cspace reports is one of three kinds, chosen by who must act:
 * the user (bad flags, config or input), an outside system (Docker, the forge,
 * git), or us (a bug). The CLI turns them into messages and exit codes in one
 * place (src/cli/run.ts); nothing else decides an exit code.
 */
export type ErrorKind = "user" | "external" | "internal";

export interface ErrorDetails {
  /** What the user can do about it, one or two lines. */
  readonly hint?: string | undefined;
  readonly cause?: unknown;
}

export abstract class CspaceError extends Error {
  abstract readonly kind: ErrorKind;
  readonly hint: string | undefined;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.hint = details.hint;
  }
}

/** The user must change something: a flag, the config, an issue file. */
export class UserError extends CspaceError {
  readonly kind = "user";
  override readonly name: string = "UserError";
}

/** Docker, the forge, git or the filesystem is unavailable or failing. */
export class ExternalError extends CspaceError {
  readonly kind = "external";
  override readonly name: string = "ExternalError";
}

/** A bug in cspace: an invariant did not hold. */
export class InternalError extends CspaceError {
  readonly kind = "internal";
  override readonly name: string = "InternalError";
}

/** Process exit codes, documented in README.md. */
export const ExitCode = {
  ok: 0,
  finishedWithFailures: 1,
  userError: 2,
  externalError: 3,
  internalError: 4,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export function exitCodeFor(kind: ErrorKind): ExitCode {
  switch (kind) {
    case "user":
      return ExitCode.userError;
    case "external":
      return ExitCode.externalError;
    case "internal":
      return ExitCode.internalError;
  }
}
