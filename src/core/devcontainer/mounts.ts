import path from "node:path";
import { invalid, isRecord } from "./problems.ts";
import type { MountSpec } from "./spec.ts";

const VALID_STRING = 'expected docker --mount syntax, like "source=${localWorkspaceFolder}/data,target=/data,type=bind"';
const VALID_OBJECT = 'expected {"source": …, "target": …, "type": "bind" or "volume"}';

/** `mounts`: each entry a docker `--mount` string or an object with source, target and type. */
export function parseMounts(file: string, value: unknown): MountSpec[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw invalid(file, "mounts", value, "expected a list of mounts");
  return value.map((item: unknown, index) => {
    const key = `mounts[${index}]`;
    if (typeof item === "string") return checked(file, key, item, fromString(file, key, item));
    if (isRecord(item)) return checked(file, key, item, fromObject(file, key, item));
    throw invalid(file, key, item, `${VALID_STRING}, or ${VALID_OBJECT}`);
  });
}

interface RawMount {
  type: string;
  source: string;
  target: string | undefined;
  readOnly: boolean;
}

function fromString(file: string, key: string, text: string): RawMount {
  const mount: RawMount = { type: "volume", source: "", target: undefined, readOnly: false };
  for (const field of text.split(",")) {
    const at = field.indexOf("=");
    const name = (at === -1 ? field : field.slice(0, at)).trim().toLowerCase();
    const setting = at === -1 ? undefined : field.slice(at + 1);
    switch (name) {
      case "type":
        mount.type = setting ?? "";
        break;
      case "source":
      case "src":
        mount.source = setting ?? "";
        break;
      case "target":
      case "destination":
      case "dst":
        mount.target = setting;
        break;
      case "readonly":
      case "ro":
        if (setting !== undefined && !["true", "false", "1", "0"].includes(setting)) {
          throw invalid(file, key, text, `expected ${name}, ${name}=true or ${name}=false`);
        }
        mount.readOnly = setting === undefined || setting === "true" || setting === "1";
        break;
      // Options that only tune a mount's behaviour: accepted, and left to Docker's defaults.
      case "consistency":
      case "bind-propagation":
      case "volume-nocopy":
        break;
      default:
        throw invalid(file, key, text, `unknown mount option ${JSON.stringify(name)}; ${VALID_STRING}`);
    }
  }
  return mount;
}

function fromObject(file: string, key: string, item: Record<string, unknown>): RawMount {
  const { type, source, target } = item;
  const readOnly = item.readOnly ?? item.readonly ?? false;
  if (type !== undefined && typeof type !== "string") throw invalid(file, `${key}.type`, type, 'expected "bind" or "volume"');
  if (source !== undefined && typeof source !== "string") throw invalid(file, `${key}.source`, source, "expected text");
  if (target !== undefined && typeof target !== "string") throw invalid(file, `${key}.target`, target, "expected an absolute path in the container");
  if (typeof readOnly !== "boolean") throw invalid(file, `${key}.readOnly`, readOnly, "expected true or false");
  return { type: type ?? "volume", source: source ?? "", target, readOnly };
}

function checked(file: string, key: string, original: unknown, mount: RawMount): MountSpec {
  if (mount.type !== "bind" && mount.type !== "volume") {
    throw invalid(file, `${key} type`, mount.type, 'expected "bind" or "volume" (other mount types are not supported by cspace)');
  }
  if (mount.target === undefined || !mount.target.startsWith("/")) {
    throw invalid(file, `${key} target`, mount.target ?? original, "expected an absolute path in the container, like /data");
  }
  if (mount.type === "bind" && !path.isAbsolute(mount.source)) {
    throw invalid(file, `${key} source`, mount.source, "expected an absolute host path for a bind mount, like ${localWorkspaceFolder}/data");
  }
  if (mount.type === "volume" && mount.source !== "" && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(mount.source)) {
    throw invalid(file, `${key} source`, mount.source, "expected a volume name: letters, digits, _, . or -");
  }
  return { type: mount.type, source: mount.source, target: path.posix.normalize(mount.target), readOnly: mount.readOnly };
}
