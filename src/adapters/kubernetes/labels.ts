import { createHash } from "node:crypto";

/**
 * cspace's labels on Kubernetes objects. A Kubernetes label value is at most
 * 63 characters of [A-Za-z0-9_.-], starting and ending alphanumeric; cspace's
 * values are not always that (a project directory is a path). A label that
 * fits is a pod label as it is; one that does not is kept whole in an
 * annotation `cspace-label/<key>`, and the pod carries a label
 * `cspace-hash/<key>` with the sha256 of the value (63 hex digits), which is
 * what a selector then matches on. Reading a pod back gives the original
 * labels, whichever way each was stored.
 */
export const LABEL_ANNOTATION_PREFIX = "cspace-label/";
export const HASH_LABEL_PREFIX = "cspace-hash/";

const NAME = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

/** A label value Kubernetes accepts (the empty string is one). */
export function isLabelValue(value: string): boolean {
  return value === "" || (value.length <= 63 && NAME.test(value));
}

/** A label or annotation key Kubernetes accepts: `[prefix/]name`. */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const name = slash === -1 ? key : key.slice(slash + 1);
  const prefix = slash === -1 ? null : key.slice(0, slash);
  if (name.length > 63 || !NAME.test(name)) return false;
  return prefix === null || (prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix));
}

/** The name part used under cspace's prefixes: the key itself when it can be one, else a digest of it. */
function nameFor(key: string): string {
  return key.length <= 63 && NAME.test(key) ? key : `k${sha256(key).slice(0, 40)}`;
}

function sha256(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

export interface KubernetesMetadataLabels {
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

/** How cspace's labels are written on a pod. */
export function toKubernetesLabels(labels: Readonly<Record<string, string>>): KubernetesMetadataLabels {
  const out: KubernetesMetadataLabels = { labels: {}, annotations: {} };
  for (const [key, value] of Object.entries(labels)) {
    if (isLabelKey(key) && isLabelValue(value)) {
      out.labels[key] = value;
    } else {
      out.annotations[`${LABEL_ANNOTATION_PREFIX}${nameFor(key)}`] = JSON.stringify([key, value]);
      out.labels[`${HASH_LABEL_PREFIX}${nameFor(key)}`] = sha256(value).slice(0, 63);
    }
  }
  return out;
}

/** A label selector (`k=v,k2=v2`) matching exactly the pods carrying these cspace labels. */
export function labelSelector(labels: Readonly<Record<string, string>>): string {
  return Object.entries(toKubernetesLabels(labels).labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(",");
}

/** cspace's labels back from a pod's labels and annotations: the hash labels dropped, the annotated ones restored. */
export function fromKubernetesLabels(labels: Readonly<Record<string, string>> | undefined, annotations: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels ?? {})) {
    if (!key.startsWith(HASH_LABEL_PREFIX)) out[key] = value;
  }
  for (const [key, value] of Object.entries(annotations ?? {})) {
    if (!key.startsWith(LABEL_ANNOTATION_PREFIX)) continue;
    const pair = parsePair(value);
    if (pair !== null) out[pair[0]] = pair[1];
  }
  return out;
}

function parsePair(text: string): [string, string] | null {
  try {
    const parsed: unknown = JSON.parse(text);
    if (Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === "string" && typeof parsed[1] === "string") return [parsed[0], parsed[1]];
  } catch {
    // Not ours: someone else's annotation under the prefix is ignored.
  }
  return null;
}

/**
 * A pod name (a DNS subdomain: lowercase alphanumerics, '-' and '.', at most
 * 253) for a container name. A name that already is one is kept, so `inspect`
 * by name and by id (the pod name) agree; another gets the readable part
 * and a digest, so two names never meet on one pod.
 */
export function podNameFor(containerName: string): string {
  if (containerName.length <= 253 && DNS_SUBDOMAIN.test(containerName)) return containerName;
  const readable = containerName
    .toLowerCase()
    .replace(/[^a-z0-9.-]+/g, "-")
    .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "")
    .slice(0, 200);
  const digest = sha256(containerName).slice(0, 12);
  return readable === "" ? `c-${digest}` : `${readable}-${digest}`;
}
