/**
 * The simulator's one token check, for the REST API and for git alike:
 * `token <t>` and `Bearer <t>` (any case of the scheme) as octokit sends
 * them, and HTTP Basic with the token as the password (any user name), as
 * git clients send it.
 */
export function bearsToken(authorization: string | undefined, token: string): boolean {
  if (authorization === undefined) return false;
  const space = authorization.indexOf(" ");
  if (space < 0) return false;
  const scheme = authorization.slice(0, space).toLowerCase();
  const value = authorization.slice(space + 1).trim();
  if (scheme === "token" || scheme === "bearer") return value === token;
  if (scheme !== "basic") return false;
  const decoded = Buffer.from(value, "base64").toString("utf8");
  return decoded.slice(decoded.indexOf(":") + 1) === token && decoded.includes(":");
}
