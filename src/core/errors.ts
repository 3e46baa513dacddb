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

/**
 * Marks cspace's errors whichever copy of this module made them: bin's fast
 * path is one bundled file, and what it loads lazily comes from the split
 * build, with its own copy of these classes (scripts/bundle-cli.mjs). A
 * registered symbol is the same in both.
 */
const CSPACE_ERROR = Symbol.for("cspace.error");

export abstract class CspaceError extends Error {
  abstract readonly kind: ErrorKind;
  readonly hint: string | undefined;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.hint = details.hint;
    Object.defineProperty(this, CSPACE_ERROR, { value: true });
  }

  /**
   * `instanceof` for the kinds (CspaceError, UserError, ExternalError,
   * InternalError) also holds for an error another copy of this module made,
   * by its mark and kind; the classes derived from them check as usual.
   */
  static override [Symbol.hasInstance](this: unknown, value: unknown): boolean {
    if (typeof this !== "function" || typeof value !== "object" || value === null) return false;
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (!KINDS.has(this) || !(CSPACE_ERROR in value)) return false;
    const kind = KINDS.get(this);
    return kind === null || (value as { kind?: unknown }).kind === kind;
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

/** The classes whose `instanceof` holds across copies, and the kind each stands for (null: any). */
const KINDS: ReadonlyMap<unknown, ErrorKind | null> = new Map<unknown, ErrorKind | null>([
  [CspaceError, null],
  [UserError, "user"],
  [ExternalError, "external"],
  [InternalError, "internal"],
]);

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
