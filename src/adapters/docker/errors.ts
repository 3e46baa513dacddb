/** The HTTP status a dockerode error carries, if any. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error === "object" && error !== null && "statusCode" in error && typeof error.statusCode === "number") return error.statusCode;
  return undefined;
}

/** The engine's own message, without dockerode's "(HTTP code 500) server error -" preamble. */
export function dockerReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (typeof error === "object" && "json" in error) {
    const json: unknown = error.json;
    if (typeof json === "object" && json !== null && "message" in json && typeof json.message === "string") return json.message;
  }
  return error.message.replace(/^\(HTTP code \d+\) [^-]*- /, "");
}

/** Why the engine could not be reached, in the user's terms (the socket is missing, permission denied, …). */
export function unreachableReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = "code" in error && typeof error.code === "string" ? error.code : undefined;
  const status = statusOf(error);
  if (status !== undefined && status !== 500) return `it answered HTTP ${status}, which a Docker engine would not (is this the engine's address?)`;
  if (code === "ENOENT") return "the socket does not exist";
  if (code === "ECONNREFUSED") return "connection refused";
  if (code === "EACCES") return "permission denied on the socket (is your user in the docker group?)";
  return error.message.replace(/^\(HTTP code \d+\) /, "");
}

/** Rejects after `ms` even when the transport has no timeout of its own (ssh). */
export async function deadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`no answer within ${ms / 1000} s`));
    }, ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
