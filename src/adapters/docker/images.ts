import { readdir } from "node:fs/promises";
import type Docker from "dockerode";
import { ExternalError, UserError } from "../../core/errors.ts";
import type { ImageBuild } from "../../core/instances/ports.ts";
import { dockerReason, statusOf } from "./errors.ts";

/** Whether the engine has an image with this reference. */
export async function hasImage(docker: Docker, reference: string): Promise<boolean> {
  try {
    await docker.getImage(reference).inspect();
    return true;
  } catch (error) {
    if (statusOf(error) === 404) return false;
    throw new ExternalError(`cannot inspect image ${reference}: ${dockerReason(error)}`, { cause: error });
  }
}

export async function pullImage(docker: Docker, reference: string, signal?: AbortSignal): Promise<void> {
  try {
    const stream = await docker.pull(reference, { abortSignal: signal });
    await follow(docker, stream);
  } catch (error) {
    throw new ExternalError(`cannot pull image ${reference}: ${dockerReason(error)}`, {
      cause: error,
      hint: "Check the image name in devcontainer.json, and that the engine can reach its registry (or load the image by hand).",
    });
  }
}

/**
 * Builds through the engine's API: the context directory is sent as a tar
 * (dockerode honours its .dockerignore), so it also works for a remote engine.
 */
export async function buildImage(docker: Docker, build: ImageBuild, signal?: AbortSignal): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(build.contextDir);
  } catch (error) {
    throw new UserError(`the build context ${build.contextDir} cannot be read: ${dockerReason(error)}`, {
      cause: error,
      hint: 'Check "build.context" in devcontainer.json (it is relative to the devcontainer.json file).',
    });
  }
  try {
    const stream = await docker.buildImage(
      { context: build.contextDir, src: entries },
      {
        t: build.tag,
        dockerfile: build.dockerfile,
        buildargs: { ...build.args },
        labels: { ...build.labels },
        ...(build.target === undefined ? {} : { target: build.target }),
        abortSignal: signal,
      },
    );
    await follow(docker, stream);
  } catch (error) {
    throw new ExternalError(`building the image from ${build.dockerfile} in ${build.contextDir} failed: ${dockerReason(error)}`, {
      cause: error,
      hint: "Fix the Dockerfile (the message above is the build's last error), then warm again.",
    });
  }
}

interface ProgressEvent {
  readonly error?: string;
  readonly errorDetail?: { readonly message?: string };
  readonly stream?: string;
}

/** Waits for a build or pull to finish; the engine reports failures inside the stream, not as a status. */
async function follow(docker: Docker, stream: NodeJS.ReadableStream): Promise<void> {
  const tail: string[] = [];
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, events: ProgressEvent[]) => {
        if (error !== null) {
          reject(error);
          return;
        }
        const failed = events.find((event) => event.error !== undefined || event.errorDetail !== undefined);
        if (failed === undefined) resolve();
        else {
          const message = failed.errorDetail?.message ?? failed.error ?? "unknown error";
          reject(new Error(`${message}${tail.length > 0 ? `\n${tail.join("")}` : ""}`));
        }
      },
      (event: ProgressEvent) => {
        if (event.stream === undefined) return;
        tail.push(event.stream);
        if (tail.length > 20) tail.shift();
      },
    );
  });
}
