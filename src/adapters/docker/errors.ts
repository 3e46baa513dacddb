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
