import { createHash, createHmac, timingSafeEqual } from "node:crypto";

/**
 * OpenSSH's known_hosts, read the way `ssh` reads it for host key checking:
 * plain host patterns (comma-separated, `*` and `?` wildcards, `!` negation,
 * `[host]:port` for a port other than 22), hashed entries (`|1|salt|hash`,
 * an HMAC-SHA1 of the host under the salt), `@revoked` keys, and comments.
 * `@cert-authority` lines are skipped: cspace does not check host certificates.
 */

export type HostKeyVerdict =
  /** A line for this host carries this key. */
  | { readonly kind: "known" }
  /** No line names this host at all. */
  | { readonly kind: "unknown" }
  /** Lines name this host, none with this key: it changed, or someone is in the middle. */
  | { readonly kind: "changed"; readonly knownTypes: readonly string[] }
  /** The key is marked @revoked. */
  | { readonly kind: "revoked" };

interface Entry {
  readonly marker: "revoked" | "cert-authority" | undefined;
  readonly hosts: string;
  readonly type: string;
  /** The key blob, base64, as the line has it. */
  readonly key: string;
}

/** The host as known_hosts names it: `host` on port 22, `[host]:port` otherwise. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${String(port)}`;
}

/**
 * What known_hosts says of `keyBlob` (the key in SSH wire format, as the
 * server sent it) for `host` on `port`.
 */
export function checkHostKey(knownHosts: string, host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const key = keyBlob.toString("base64");
  const types = new Set<string>();
  let known = false;
  for (const entry of parse(knownHosts)) {
    if (entry.marker === "revoked") {
      if (entry.key === key) return { kind: "revoked" };
      continue;
    }
    if (entry.marker === "cert-authority" || !hostsMatch(entry.hosts, name)) continue;
    if (entry.key === key) known = true;
    else types.add(entry.type);
  }
  if (known) return { kind: "known" };
  return types.size === 0 ? { kind: "unknown" } : { kind: "changed", knownTypes: [...types] };
}

/** `SHA256:…` as `ssh-keygen -l` and `ssh` print a key's fingerprint. */
export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}

/** The key's algorithm, read from its blob (a length-prefixed string first). */
export function keyType(keyBlob: Buffer): string {
  if (keyBlob.length < 4) return "unknown";
  const length = keyBlob.readUInt32BE(0);
  return length > 0 && length <= 64 && keyBlob.length >= 4 + length ? keyBlob.subarray(4, 4 + length).toString("latin1") : "unknown";
}

function parse(text: string): Entry[] {
  const entries: Entry[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    let marker: Entry["marker"];
    if (fields[0] === "@revoked" || fields[0] === "@cert-authority") {
      marker = fields[0] === "@revoked" ? "revoked" : "cert-authority";
      fields.shift();
    }
    const [hosts, type, key] = fields;
    if (hosts === undefined || type === undefined || key === undefined) continue;
    entries.push({ marker, hosts, type, key });
  }
  return entries;
}

/** Whether the host field names `name`: a hashed entry, or patterns where a matching negation wins. */
function hostsMatch(hosts: string, name: string): boolean {
  if (hosts.startsWith("|1|")) return hashedMatch(hosts, name);
  let matched = false;
  for (const pattern of hosts.split(",")) {
    if (pattern.startsWith("!")) {
      if (globMatch(pattern.slice(1), name)) return false;
    } else if (globMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

function hashedMatch(field: string, name: string): boolean {
  const [, , salt, hash] = field.split("|");
  if (salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, "base64");
  const actual = createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** OpenSSH's patterns: `*` any run, `?` one character, the rest literal; host names compare without case. */
function globMatch(pattern: string, name: string): boolean {
  const source = pattern
    .toLowerCase()
    .split("")
    .map((char) => (char === "*" ? ".*" : char === "?" ? "." : char.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${source}$`).test(name.toLowerCase());
}
