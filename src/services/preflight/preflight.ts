import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { LoadedDevcontainer } from "../../adapters/devcontainer/read-devcontainer.ts";
import { workTreeState } from "../../adapters/git/bare-clone.ts";
import { dataDirFor } from "../../adapters/git/workspaces.ts";
import { presetNamed } from "../../core/agents/presets/index.ts";
import type { CheckResult } from "../../core/doctor/checks.ts";
import { agentCheck, agentKeyCheck, repositoryCheck, verifyCheck, verifyExecutables, type ImageObservation, type ImageUnchecked } from "../../core/doctor/preflight.ts";
import { CspaceError, InternalError } from "../../core/errors.ts";
import type { ContainerRuntime } from "../../core/instances/ports.ts";
import { writeFileAtomic } from "../../shared/atomic-file.ts";
import { loadInstanceSpec } from "../instances/spec.ts";
import type { OpenedProject } from "../project.ts";
import { ensureImage } from "../warm/image.ts";
import { probeImage, probeKey, type ProbeRequest } from "./image-probe.ts";

export interface PreflightOptions {
  /**
   * The engine, or null when it does not answer (doctor reports that on its
   * own and skips what needs it).
   */
  readonly runtime: ContainerRuntime | null;
  /** Why there is no engine to look into the image with, when that is by design rather than a failure to reach one. */
  readonly noEngine?: string;
  /**
   * coordinate: build (or pull) the worker image when it is missing, as its
   * first warm would, and remember answers by image id. doctor: neither
   * (doctor changes nothing); an image not made yet is a caveat.
   */
  readonly prepare: boolean;
  readonly signal?: AbortSignal | undefined;
}

/** What the instances of a run are named like; the spec is the same for every instance but for its own paths. */
const SAMPLE_INSTANCE = "issue-1";

/**
 * What a run needs before it starts (docs/architecture.md, "Preflight"): a
 * git repository with a commit; in the worker image, the agent's executable
 * (or npm to install it) and the verify commands' executables; the agent's
 * key passed by name. One container for all the image's answers.
 */
export async function preflightChecks(project: OpenedProject, options: PreflightOptions): Promise<CheckResult[]> {
  const preset = presetNamed(project.config.agent.preset);
  if (preset === null) throw new InternalError(`agent.preset "${project.config.agent.preset}" passed validation but names no preset`);
  const repository = repositoryCheck(project.projectDir, await workTreeState(project.projectDir));
  const commands = [project.config.verify.all, project.config.verify.e2e].filter((c): c is string => c !== undefined);
  const executables = [...new Set([preset.executable, ...verifyExecutables(commands)])];

  let loaded: LoadedDevcontainer | null = null;
  let image: ImageObservation | ImageUnchecked;
  try {
    loaded = await loadInstanceSpec(project, await project.ports.workspaces(), SAMPLE_INSTANCE);
    image = await lookInto(project, loaded, options, { executables, askNpm: true, credentialNames: preset.credentialEnv });
  } catch (error) {
    if (!(error instanceof CspaceError)) throw error;
    image = { because: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) };
  }
  const spec = loaded?.spec;
  const lifecycleCommands = spec !== undefined && (spec.postCreate !== null || spec.postStart !== null);
  return [
    repository,
    agentCheck({ preset, packageSpec: project.config.agent.package, image, lifecycleCommands }),
    agentKeyCheck(preset, {
      agentEnv: project.config.agent.env,
      containerEnv: { ...spec?.containerEnv, ...spec?.runArgs.env, ...spec?.remoteEnv, ...project.config.container.env },
      passEnv: project.config.agent.passEnv,
      hostEnv: project.env,
      image: "found" in image ? image.credentialsSet : null,
    }),
    verifyCheck({ commands, image, lifecycleCommands }),
  ];
}

async function lookInto(
  project: OpenedProject,
  loaded: LoadedDevcontainer,
  options: PreflightOptions,
  questions: Pick<ProbeRequest, "executables" | "askNpm" | "credentialNames">,
): Promise<ImageObservation | ImageUnchecked> {
  const runtime = options.runtime;
  if (runtime === null) return options.noEngine === undefined ? { because: "the Docker engine is unreachable" } : { because: options.noEngine, caveat: true };
  if (!(await runtime.hasImage(loaded.imageRef))) {
    if (!options.prepare) {
      return {
        because: `the worker image ${loaded.imageRef} is not made yet (the first warm makes it)`,
        hint: "cspace coordinate makes it and checks it before it starts anything.",
        caveat: true,
      };
    }
    await ensureImage(runtime, loaded, options.signal);
  }
  const request: ProbeRequest = { projectId: project.projectId, loaded, containerEnv: project.config.container.env, pidsLimit: project.config.container.pidsLimit, ...questions };
  const info = await runtime.imageInfo(loaded.imageRef);
  const cacheFile = path.join(dataDirFor(project.env), project.projectId, "preflight.json");
  const key = info === null ? null : probeKey(info.id, request);
  const cache = await readCache(cacheFile);
  const known = key === null ? undefined : cache[key];
  if (known !== undefined) return { image: loaded.imageRef, found: new Set(known.found), npm: known.npm, credentialsSet: new Set(known.credentialsSet) };
  const observed = await probeImage(runtime, request, options.signal);
  if (options.prepare && key !== null) {
    // Only the latest answers are kept: an image id changes when it is rebuilt, and old ones are never asked for again.
    const kept = Object.entries(cache).slice(-15);
    const entry: CachedAnswer = { found: [...observed.found], npm: observed.npm, credentialsSet: [...observed.credentialsSet] };
    await mkdir(path.dirname(cacheFile), { recursive: true, mode: 0o700 });
    writeFileAtomic(cacheFile, `${JSON.stringify(Object.fromEntries([...kept, [key, entry]]))}\n`, { mode: 0o600 });
  }
  return observed;
}

interface CachedAnswer {
  readonly found: readonly string[];
  readonly npm: boolean;
  readonly credentialsSet: readonly string[];
}

/** Answers remembered by image id and question; an unreadable file is as good as none. */
async function readCache(file: string): Promise<Record<string, CachedAnswer>> {
  try {
    const parsed: unknown = JSON.parse(await readFile(file, "utf8"));
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
    const answers: Record<string, CachedAnswer> = {};
    for (const [key, value] of Object.entries(parsed as Record<string, unknown>)) {
      if (isAnswer(value)) answers[key] = value;
    }
    return answers;
  } catch {
    return {};
  }
}

function isAnswer(value: unknown): value is CachedAnswer {
  if (typeof value !== "object" || value === null) return false;
  const { found, npm, credentialsSet } = value as Record<string, unknown>;
  const strings = (list: unknown) => Array.isArray(list) && list.every((item) => typeof item === "string");
  return strings(found) && typeof npm === "boolean" && strings(credentialsSet);
}
