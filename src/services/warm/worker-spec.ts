import type { LoadedDevcontainer } from "../../adapters/devcontainer/read-devcontainer.ts";
import { lifecycleTimeoutMs, memoryBytes } from "../../core/config/rules.ts";
import { containerCreateSpec, type ContainerCreateInput, type ContainerCreateSpec } from "../../core/devcontainer/create-options.ts";
import { instanceLabels, LABELS, WORKER_LAYOUT } from "../../core/instances/labels.ts";
import { containerNameFor } from "../../core/instances/names.ts";
import { accessOf } from "../instances/spec.ts";
import type { Project } from "../project.ts";
import type { Target } from "./bring-up.ts";
import { networkLabelOf } from "./egress.ts";
import { COMMIT_LABEL } from "./held-work.ts";
import type { LifecycleRun } from "./steps.ts";

/**
 * The container a warm makes for an instance, on whichever host: its name,
 * its labels (the host it runs on, the commit its workspace was made at, the
 * network and layout it was made to), the project's limits and environment,
 * and the network egress.ts chose. Only where its files come from differs by
 * host (`files`, and a local checkout's support mounts).
 */
export function workerCreateSpec(
  project: Project,
  target: Target,
  loaded: LoadedDevcontainer,
  placed: { readonly host: string; readonly commit: string; readonly files: ContainerCreateInput["files"]; readonly extraMounts?: ContainerCreateInput["extraMounts"] },
): ContainerCreateSpec {
  const { instance, base } = target;
  const { container } = project.config;
  const cpus = container.cpus;
  return containerCreateSpec({
    spec: loaded.spec,
    imageRef: loaded.imageRef,
    name: containerNameFor(project.projectId, instance),
    labels: {
      ...instanceLabels({ projectId: project.projectId, instance, base, imageInputs: loaded.imageInputs ?? loaded.imageRef, host: placed.host }),
      [COMMIT_LABEL]: placed.commit,
      [LABELS.network]: networkLabelOf(target.network),
      [LABELS.layout]: WORKER_LAYOUT,
    },
    files: placed.files,
    extraMounts: placed.extraMounts,
    limits: {
      memoryBytes: container.memory === undefined ? null : memoryBytes(container.memory),
      nanoCpus: cpus === undefined ? null : Math.round(cpus * 1e9),
      pidsLimit: container.pidsLimit,
    },
    env: container.env,
    network: target.network,
  });
}

/** A lifecycle step of the devcontainer as a warm runs it, on whichever host: its commands, as the container user, within container.lifecycleTimeout. */
export function lifecycleRunOf(project: Project, key: LifecycleRun["key"], resolved: LoadedDevcontainer, signal: AbortSignal | undefined): LifecycleRun {
  const { lifecycleTimeout } = project.config.container;
  return {
    key,
    step: key === "postCreateCommand" ? resolved.spec.postCreate : resolved.spec.postStart,
    access: accessOf(resolved, signal),
    timeout: { ms: lifecycleTimeoutMs(lifecycleTimeout), text: lifecycleTimeout },
  };
}
