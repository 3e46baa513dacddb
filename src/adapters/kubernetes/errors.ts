import { ExternalError } from "../../core/errors.ts";

/** Where a request went, for messages: every error names the context, namespace and pod. */
export interface KubeTarget {
  readonly context: string;
  readonly namespace: string;
  readonly server: string;
}

/** The HTTP status of a client-node ApiException (or a watch's error), when there is one. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof code === "number") return code;
  if (typeof statusCode === "number") return statusCode;
  // A refused WebSocket upgrade (exec): the `ws` package's "Unexpected server response: 404", in an ErrorEvent.
  const answered = /Unexpected server response: (\d{3})/.exec(messageOf(error) ?? "");
  return answered?.[1] === undefined ? undefined : Number(answered[1]);
}

/** The message of an Error, or of an error-like object (a WebSocket ErrorEvent is no Error). */
function messageOf(error: object): string | undefined {
  const { message } = error as { message?: unknown };
  return typeof message === "string" ? message : undefined;
}

/** The API server's own words: the `message` of the Status it answered, else the error's. */
export function reasonOf(error: unknown): string {
  if (typeof error === "object" && error !== null && "body" in error) {
    const body = error.body;
    const parsed = typeof body === "string" ? safeJson(body) : body;
    if (typeof parsed === "object" && parsed !== null && typeof (parsed as { message?: unknown }).message === "string") return (parsed as { message: string }).message;
  }
  if (!(error instanceof Error) && typeof error === "object" && error !== null) {
    const message = messageOf(error);
    if (message !== undefined) return message;
  }
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const code = typeof cause === "object" && cause !== null ? (cause as { code?: unknown }).code : undefined;
    return typeof code === "string" ? `${error.message} (${code})` : error.message;
  }
  return String(error);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * An ExternalError for a failed request: `action` says what cspace tried
 * ("create pod w-1"), `verb` and `resource` are the RBAC names, so a 403
 * says exactly which permission the account lacks.
 */
export function kubeError(target: KubeTarget, action: string, verb: string, resource: string, error: unknown): ExternalError {
  const where = `in namespace ${target.namespace} (context ${target.context})`;
  const status = statusOf(error);
  const reason = reasonOf(error);
  if (status === 403) {
    return new ExternalError(`cannot ${action} ${where}: forbidden: ${reason}`, {
      cause: error,
      hint: `The account of context ${target.context} lacks "${verb}" on "${resource}" in namespace ${target.namespace}: grant it with a Role and RoleBinding (cspace needs create, get, list, watch and delete on pods, create on pods/exec, get on pods/log, and create, get, list and delete on persistentvolumeclaims).`,
    });
  }
  if (status === 401) {
    return new ExternalError(`cannot ${action} ${where}: the API server at ${target.server} did not accept the credentials`, {
      cause: error,
      hint: `Refresh the credentials of context ${target.context} (kubectl --context ${target.context} get pods checks them).`,
    });
  }
  if (status === undefined) {
    return new ExternalError(`cannot ${action} ${where}: no answer from the API server at ${target.server}: ${reason}`, {
      cause: error,
      hint: `Check that the cluster of context ${target.context} is up and reachable from here (kubectl --context ${target.context} version).`,
    });
  }
  if (status === 404) return new ExternalError(`cannot ${action} ${where}: it is not there (${reason})`, { cause: error });
  return new ExternalError(`cannot ${action} ${where}: ${String(status)} ${reason}`, { cause: error });
}
