import { UserError } from "../errors.ts";
import { quoteForMessage } from "../instances/names.ts";
import { isRecord } from "./problems.ts";

/** Keys cspace reads (see parse.ts and README.md). */
export const SUPPORTED_KEYS = [
  "image", "build", "dockerFile", "context", "containerEnv", "remoteEnv", "containerUser", "remoteUser",
  "workspaceFolder", "mounts", "runArgs", "capAdd", "securityOpt", "init", "overrideCommand", "postCreateCommand", "postStartCommand",
] as const;

/** Editor and tooling metadata: nothing for cspace to do, nothing to say. */
const SILENT = new Set(["name", "$schema", "customizations"]);

const PORTS = "cspace does not forward ports";
const REASONS: Readonly<Record<string, string>> = {
  forwardPorts: PORTS,
  appPort: PORTS,
  portsAttributes: PORTS,
  otherPortsAttributes: PORTS,
  initializeCommand: "cspace runs nothing from devcontainer.json on the host",
  onCreateCommand: "cspace runs postCreateCommand and postStartCommand only",
  updateContentCommand: "cspace runs postCreateCommand and postStartCommand only",
  postAttachCommand: "cspace runs postCreateCommand and postStartCommand only",
  waitFor: "lifecycle commands always finish before an instance counts as ready",
  workspaceMount: "cspace mounts each instance's own checkout at workspaceFolder",
  privileged: "a privileged worker would hand the agent the host; add the capabilities it needs with capAdd",
};

/** Other keys of the devcontainer.json reference that cspace does not apply. */
const IGNORED = new Set([
  "shutdownAction", "userEnvProbe", "updateRemoteUserUID", "hostRequirements",
  "overrideFeatureInstallOrder", "secrets", "gpuRequirements",
]);

const COMPOSE_KEYS = ["dockerComposeFile", "service", "runServices"];

/** Keys that would change what the container is, and that cspace cannot honour: refused, never ignored. */
export function refuseUnsupported(file: string, raw: Record<string, unknown>): void {
  const features = raw.features;
  const hasFeatures = features !== undefined && features !== null && !(isRecord(features) && Object.keys(features).length === 0);
  if (hasFeatures) {
    throw new UserError(`${file}: features: features are not supported by cspace yet; install what you need in a Dockerfile (build.dockerfile)`, {
      hint: "move each feature's tools into a Dockerfile and point build.dockerfile at it",
    });
  }
  for (const key of COMPOSE_KEYS) {
    if (Object.hasOwn(raw, key)) {
      throw new UserError(`${file}: ${key}: compose-based configs are not supported yet`, {
        hint: 'give the worker a single image ("image") or a Dockerfile ("build": {"dockerfile": …})',
      });
    }
  }
}

/** One line for a key cspace ignores, or null for keys it reads or ignores silently. */
export function ignoredKeyWarning(key: string): string | null {
  if (SILENT.has(key) || key === "features" || (SUPPORTED_KEYS as readonly string[]).includes(key)) return null;
  const reason = Object.hasOwn(REASONS, key) ? REASONS[key] : undefined;
  if (reason !== undefined) return `${key} is ignored by cspace (${reason})`;
  if (IGNORED.has(key)) return `${key} is ignored by cspace`;
  return `${quoteForMessage(key)} is not a devcontainer.json key cspace knows; it is ignored`;
}
