import path from "node:path";
import { inspectRunDir } from "../adapters/run-dir.ts";
import { baseImage, gitCheck, nodeCheck, skipped, summarize, type CheckId, type CheckResult, type DoctorReport } from "../core/doctor/checks.ts";
import { hostCheck, type EngineObservation } from "../core/doctor/hosts.ts";
import { CspaceError } from "../core/errors.ts";
import { hasLocalHost, NO_LOCAL_HOST_IMAGE, onlyTheLocalHost, workerHosts } from "../core/hosts/hosts.ts";
import { networkAsked } from "../core/hosts/kubernetes-limits.ts";
import type { Host } from "../core/host.ts";
import { LABELS } from "../core/instances/labels.ts";
import type { ContainerRuntime } from "../core/instances/ports.ts";
import { socketRoom } from "../core/run-dir.ts";
import { loadInstanceSpec } from "./instances/spec.ts";
import { outdatedWorker } from "./warm/outdated-worker.ts";
import { preflightChecks } from "./preflight/preflight.ts";
import { openProject, portFactories, type OpenedProject, type PortOverrides } from "./project.ts";

export interface DoctorOptions {
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Replacements for the real ports, like every service takes (test/fakes/ports.ts). */
  readonly ports?: PortOverrides | undefined;
}

/**
 * Runs every check (independent ones concurrently) and reports them in a
 * fixed order. Everything is looked at through the project's ports, and
 * nothing is created or changed: doctor is safe to run anywhere. The engine
 * and the host are checked even when the configuration is invalid.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const factories = portFactories(options.ports);
  const host = await factories.host({ env: options.env });
  // A project whose workers all run on other hosts needs no engine here: this machine's is then checked, not required.
  const engineNeeded = await openProject(options).then((project) => hasLocalHost(workerHosts(project.config)), () => true);
  const groups = await Promise.all([
    engineChecks(() => factories.runtime({ env: options.env }), options.env, engineNeeded),
    guard("git", "git", () => host.gitVersionOutput().then(gitCheck)),
    Promise.resolve([nodeCheck(host.nodeVersion)]),
    projectChecks(options, host),
  ]);
  return summarize(groups.flat());
}

async function engineChecks(open: () => ContainerRuntime | Promise<ContainerRuntime>, env: NodeJS.ProcessEnv, needed: boolean): Promise<CheckResult[]> {
  const engineBase = { id: "docker-engine", title: "Docker engine", required: needed } as const;
  const imageBase = { id: "base-image", title: "Base image", required: needed } as const;
  let runtime: ContainerRuntime;
  let detail: string;
  try {
    runtime = await open();
    const info = await runtime.engineInfo();
    detail = `Docker ${info.version} (API ${info.apiVersion}) at ${runtime.endpoint}`;
  } catch (error) {
    if (!(error instanceof CspaceError)) throw error;
    if (!needed) {
      const because = "no host in workers.hosts is this machine's engine, so none is needed here";
      return [skipped(engineBase.id, engineBase.title, false, because), skipped(imageBase.id, imageBase.title, false, because)];
    }
    const dockerHost = env.DOCKER_HOST ?? "";
    const hint =
      "Start the engine: `bash scripts/prepare-machine.sh` on a cspace test machine, else start Docker Desktop or `sudo systemctl start docker`." +
      (dockerHost === "" ? "" : ` DOCKER_HOST is set to ${dockerHost}: check it, or unset it to use the default socket.`);
    return [
      { ...engineBase, status: "fail", detail: error.message, hint: error.hint ?? hint },
      skipped(imageBase.id, imageBase.title, imageBase.required, "the Docker engine is unreachable"),
    ];
  }
  const image = await guard(imageBase.id, imageBase.title, async (): Promise<CheckResult> => {
    const found = await runtime.imageInfo(baseImage);
    if (found !== null) return { ...imageBase, status: "pass", detail: `${baseImage} (${shortId(found.id)}, ${megabytes(found.sizeBytes)})` };
    return { ...imageBase, status: "fail", detail: `${baseImage} is not in the engine`, hint: "Build it offline with `bash scripts/prepare-machine.sh` (in a cspace checkout)." };
  });
  return [{ ...engineBase, status: "pass", detail }, image];
}

async function projectChecks(options: DoctorOptions, host: Host): Promise<CheckResult[]> {
  const configBase = { id: "config", title: "Configuration", required: true } as const;
  let project: OpenedProject;
  try {
    project = await openProject(options);
  } catch (error) {
    if (!(error instanceof CspaceError)) throw error;
    const hint = error.hint ?? "Fix the keys named above; `cspace doctor` checks again.";
    const because = "the configuration is invalid";
    return [
      { ...configBase, status: "fail", detail: error.message, hint },
      skipped("forge", "Forge", true, because),
      skipped("run-dir", "Run directory", true, because),
      skipped("workers", "Workers", false, because),
      skipped("repository", "Git repository", true, because),
      skipped("agent", "Agent", true, because),
      skipped("agent-key", "Agent's key", false, because),
      skipped("verify", "Verify commands", true, because),
    ];
  }
  const config: CheckResult =
    project.files.length === 0
      ? { ...configBase, status: "pass", detail: `no .cspace.json; using defaults (project "${project.config.project.name}")`, hint: "Run `cspace init` to write a starting config." }
      : {
          ...configBase,
          status: "pass",
          detail: `project "${project.config.project.name}" from ${project.files.map((file) => path.relative(project.projectDir, file)).join(" + ")}`,
        };
  const [hosts, forge, runDir, workers, preflight] = await Promise.all([
    hostChecks(project),
    forgeChecks(project),
    guard("run-dir", "Run directory", () => runDirCheck(project, host)),
    guard("workers", "Workers", () => workersCheck(project)),
    runPreflight(project),
  ]);
  return [config, ...hosts, ...forge, runDir, workers, ...preflight];
}

/**
 * One check per configured host, all at once, when more than the local
 * engine is configured: its engine answers (version), the worker image is
 * there or can be made there, its slots. A host that does not answer fails
 * its own check, naming it; the others are checked all the same.
 */
async function hostChecks(project: OpenedProject): Promise<CheckResult[]> {
  const hosts = workerHosts(project.config);
  if (onlyTheLocalHost(hosts)) return [];
  const image = await workerImage(project);
  const network = networkAsked(project.config.container.network);
  const runtimes = await project.ports.hosts();
  try {
    return await Promise.all(
      hosts.map(async (host): Promise<CheckResult> => {
        let runtime: ContainerRuntime;
        let engine: EngineObservation;
        try {
          runtime = await runtimes.get(host.name);
          const info = await runtime.engineInfo();
          engine = { answered: true, version: info.version, apiVersion: info.apiVersion, endpoint: runtime.endpoint };
        } catch (error) {
          if (!(error instanceof CspaceError)) throw error;
          return hostCheck(host, { answered: false, message: error.message, hint: error.hint }, null, network);
        }
        if ("unchecked" in image) return hostCheck(host, engine, image, network);
        try {
          return hostCheck(host, engine, { ...image, present: await runtime.hasImage(image.reference) }, network);
        } catch (error) {
          if (!(error instanceof CspaceError)) throw error;
          return hostCheck(host, engine, { unchecked: error.message }, network);
        }
      }),
    );
  } finally {
    await runtimes.close();
  }
}

/** The image workers run, from the devcontainer; why not, when it cannot be read (the preflight checks say more). */
async function workerImage(project: OpenedProject): Promise<{ readonly reference: string; readonly built: boolean } | { readonly unchecked: string }> {
  try {
    const loaded = await loadInstanceSpec(project, await project.ports.workspaces(), "issue-1");
    return { reference: loaded.imageRef, built: loaded.imageInputs !== null };
  } catch (error) {
    if (!(error instanceof CspaceError)) throw error;
    return { unchecked: error.message };
  }
}

/** The forge says how it is (sign-in, repository, squash merges, its issues): doctor never asks which forge it has. */
async function forgeChecks(project: OpenedProject): Promise<CheckResult[]> {
  try {
    const forge = await project.ports.forge();
    return [...(await forge.check())];
  } catch (error) {
    if (!(error instanceof CspaceError)) throw error;
    return [{ id: "forge", title: "Forge", status: "fail", required: true, detail: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) }];
  }
}

/** Read-only: a missing run directory passes (warm makes it); one someone else could reach fails. */
async function runDirCheck(project: OpenedProject, host: Host): Promise<CheckResult> {
  const base = { id: "run-dir", title: "Run directory", required: true } as const;
  const spec = project.runDirSpec;
  const where = `${spec.path} (${spec.source === "tmpdir" ? "in the temporary directory" : `from ${spec.source}`})`;
  const room = socketRoom(spec.path, host.platform);
  if (!room.fits) {
    return {
      ...base,
      status: "fail",
      detail: `${where}: socket paths there would be up to ${String(room.longest)} bytes; the limit is ${String(room.max)}`,
      hint: "Set CSPACE_RUN_DIR to a shorter directory, like /tmp/cspace-run.",
    };
  }
  const inspection = await inspectRunDir(spec, host.uid);
  switch (inspection.state) {
    case "ready":
      return { ...base, status: "pass", detail: `${where} is yours and writable` };
    case "missing":
      return { ...base, status: "pass", detail: `${where} does not exist yet; warm makes it (mode 0700)` };
    case "refused": {
      const [first] = inspection.problems;
      return { ...base, status: "fail", detail: first?.message ?? `${where} cannot be used`, hint: first?.hint ?? "Set CSPACE_RUN_DIR to a directory of your own that you can write." };
    }
  }
}

/** Workers made by an older cspace are named: each keeps what this version closed until the next `warm` makes it again. */
async function workersCheck(project: OpenedProject): Promise<CheckResult> {
  const base = { id: "workers", title: "Workers", required: false } as const;
  let runtime: ContainerRuntime;
  try {
    // The local engine's workers; each other host has its own check (a silent one fails there, not here too).
    if (!hasLocalHost(workerHosts(project.config))) return skipped(base.id, base.title, base.required, "no host in workers.hosts is this machine's engine");
    runtime = await project.ports.localRuntime();
  } catch (error) {
    if (!(error instanceof CspaceError)) throw error;
    return skipped(base.id, base.title, base.required, "the Docker engine is unreachable");
  }
  const workspaces = await project.ports.workspaces();
  const found = await runtime.list({ [LABELS.project]: project.projectId });
  const outdated: string[] = [];
  for (const c of found) {
    const instance = c.labels[LABELS.instance] ?? c.name;
    const reasons = await outdatedWorker(workspaces, c, instance);
    if (reasons.length > 0) outdated.push(`${instance} (${reasons.join("; ")})`);
  }
  if (outdated.length === 0) return { ...base, status: "pass", detail: found.length === 0 ? "no workers yet" : `${String(found.length)} made as this version makes them` };
  const names = outdated.map((o) => o.slice(0, o.indexOf(" (")));
  return {
    ...base,
    status: "warn",
    detail: `made by an older cspace: ${outdated.join(", ")}`,
    hint: `Run \`cspace warm ${names.join(" ")}\`: it makes them again, hardened, keeping their checkouts and work (--reset would discard the work).`,
  };
}

/** What a run needs (the same checks coordinate runs before it makes anything), looking into the worker image only if it is already made. */
async function runPreflight(project: OpenedProject): Promise<CheckResult[]> {
  if (!hasLocalHost(workerHosts(project.config))) return preflightChecks(project, { runtime: null, noEngine: NO_LOCAL_HOST_IMAGE, prepare: false });
  let runtime: ContainerRuntime | null = null;
  try {
    runtime = await project.ports.localRuntime();
  } catch (error) {
    if (!(error instanceof CspaceError)) throw error;
  }
  return preflightChecks(project, { runtime, prepare: false });
}

/** Runs one check; an outside system or the user's input failing becomes a failed check, not a crash. */
async function guard(id: CheckId, title: string, task: () => Promise<CheckResult>): Promise<CheckResult> {
  try {
    return await task();
  } catch (error) {
    if (!(error instanceof CspaceError)) throw error;
    return { id, title, status: "fail", required: true, detail: error.message, ...(error.hint === undefined ? {} : { hint: error.hint }) };
  }
}

function shortId(id: string): string {
  return id.replace(/^sha256:/, "").slice(0, 12);
}

function megabytes(bytes: number): string {
  return `${String(Math.round(bytes / 1_000_000))} MB`;
}
