import { exposedConfigDir, holdsToken, isTokenName, keySegment, type ForgeSecrets, type SecretLeak } from "../secrets/forge-token.ts";
import { SUPPORTED_KEYS } from "./keys.ts";
import { isRecord } from "./problems.ts";
import type { DevcontainerSpec } from "./spec.ts";

export interface DevcontainerLeakInput {
  readonly file: string;
  /** The parsed devcontainer.json before substitution, so references are seen as written. */
  readonly raw: unknown;
  /** The same file resolved; its bind mounts are compared with gh's credentials folder. */
  readonly spec: DevcontainerSpec;
  /** The host environment `${localEnv:…}` and `runArgs -e NAME` read. */
  readonly localEnv: Readonly<Record<string, string | undefined>>;
  readonly secrets: ForgeSecrets;
}

/** Keys whose object keys become variable names in the container or the image build. */
const ENV_MAPS: readonly (readonly string[])[] = [["containerEnv"], ["remoteEnv"], ["build", "args"]];

const REFERENCE = /\$\{(?:localEnv|env):([^:}]*)/g;

/**
 * Every way this devcontainer.json would hand the forge token to the
 * container, at most one per key path. Only keys cspace applies are read:
 * an ignored key never reaches a container.
 */
export function devcontainerLeaks(input: DevcontainerLeakInput): SecretLeak[] {
  const { raw, secrets } = input;
  if (!isRecord(raw)) return [];
  const found = new Map<string, string>();
  const add = (key: string, reason: string) => {
    if (!found.has(key)) found.set(key, reason);
  };

  for (const path of ENV_MAPS) {
    const map = path.reduce<unknown>((value, key) => (isRecord(value) && Object.hasOwn(value, key) ? value[key] : undefined), raw);
    if (!isRecord(map)) continue;
    for (const name of Object.keys(map)) {
      if (isTokenName(name, secrets)) add(`${path.join(".")}${keySegment(name)}`, `sets ${name}, a forge token variable`);
    }
  }
  if (Array.isArray(raw.runArgs)) runArgLeaks(raw.runArgs, input, add);
  for (const key of SUPPORTED_KEYS) {
    if (Object.hasOwn(raw, key)) walkStrings(raw[key], key, (at, text) => {
      const reason = stringLeak(text, input);
      if (reason !== null) add(at, reason);
    });
  }
  input.spec.mounts.forEach((mount, index) => {
    const dir = mount.type === "bind" ? exposedConfigDir(mount.source, secrets) : null;
    if (dir !== null) add(`mounts[${index}]`, `binds ${mount.source}, which exposes ${dir}, where gh keeps its token`);
  });
  return [...found].map(([key, reason]) => ({ where: input.file, key, reason }));
}

/** `-e NAME`, `--env NAME=…`, `-e=NAME`: by the name, or by what the host's variable of that name holds. */
function runArgLeaks(args: readonly unknown[], input: DevcontainerLeakInput, add: (key: string, reason: string) => void): void {
  args.forEach((arg, index) => {
    if (typeof arg !== "string") return;
    const joined = /^(?:-e|--env)=(.*)$/s.exec(arg);
    const isFlag = arg === "-e" || arg === "--env";
    const next = args[index + 1];
    const setting = joined?.[1] ?? (isFlag && typeof next === "string" ? next : undefined);
    if (setting === undefined) return;
    const at = joined === null ? index + 1 : index;
    const eq = setting.indexOf("=");
    const name = eq === -1 ? setting : setting.slice(0, eq);
    const hostValue = Object.hasOwn(input.localEnv, name) ? input.localEnv[name] : undefined;
    if (isTokenName(name, input.secrets)) add(`runArgs[${at}]`, `passes ${name}, a forge token variable`);
    else if (eq === -1 && hostValue !== undefined && holdsToken(hostValue, input.secrets)) {
      add(`runArgs[${at}]`, `copies the host's ${name}, whose value holds the forge token`);
    }
  });
}

/** Why one written string would carry the token, or null. */
function stringLeak(text: string, input: DevcontainerLeakInput): string | null {
  for (const match of text.matchAll(REFERENCE)) {
    const name = match[1] ?? "";
    if (isTokenName(name, input.secrets)) return `reads ${match[0]}}, a forge token variable`;
    const value = Object.hasOwn(input.localEnv, name) ? input.localEnv[name] : undefined;
    if (value !== undefined && holdsToken(value, input.secrets)) return `reads ${match[0]}}, whose value holds the forge token`;
  }
  return holdsToken(text, input.secrets) ? "holds the forge token's value" : null;
}

function walkStrings(value: unknown, at: string, visit: (at: string, text: string) => void): void {
  if (typeof value === "string") {
    visit(at, value);
    return;
  }
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((item: unknown, index) => [index, item]) : isRecord(value) ? Object.entries(value) : [];
  for (const [key, item] of entries) walkStrings(item, `${at}${keySegment(key)}`, visit);
}
