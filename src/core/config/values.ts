/**
 * Reading and showing configuration values as error lines do. No zod here:
 * merging layers (./merge.ts) uses these on every command.
 */

export type KeyPath = readonly PropertyKey[];

/** `coordinator.maxParallel`, `container.env["MY VAR"]`; the top level is named as such. */
export function formatPath(path: KeyPath): string {
  if (path.length === 0) return "(top level)";
  return path
    .map((key, index) => {
      if (typeof key === "number") return `[${key}]`;
      const name = String(key);
      if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name)) return `[${JSON.stringify(name)}]`;
      return index === 0 ? name : `.${name}`;
    })
    .join("");
}

const MAX_SHOWN = 60;

/** The value received, as the user wrote it, shortened when long. */
export function given(value: unknown): string {
  if (value === undefined) return "missing";
  const json = JSON.stringify(value);
  const shown = json.length > MAX_SHOWN ? `${json.slice(0, MAX_SHOWN - 1)}…` : json;
  if (Array.isArray(value)) return `got a list ${shown}`;
  if (isRecord(value)) return `got an object ${shown}`;
  return `got ${shown}`;
}

export function valueAt(root: unknown, path: KeyPath): unknown {
  let value = root;
  for (const key of path) {
    // Into lists too: a problem in container.network.allow[2] quotes that entry.
    if (Array.isArray(value) && typeof key === "number") {
      value = value[key];
      continue;
    }
    if (!isRecord(value) || !Object.hasOwn(value, key)) return undefined;
    value = value[key as string];
  }
  return value;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The candidate within edit distance 2 (and less than the word's own length), if any. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance <= 2 && distance < word.length && (best === undefined || distance < best.distance)) {
      best = { candidate, distance };
    }
  }
  return best?.candidate;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
