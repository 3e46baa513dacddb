import path from "node:path";
import type { LoadedDevcontainer } from "../../adapters/devcontainer/read-devcontainer.ts";
import { UserError } from "../../core/errors.ts";
import { LABELS } from "../../core/instances/labels.ts";
import type { ContainerRuntime } from "../../core/instances/ports.ts";

/** The image the instances run: an existing one, pulled when missing, or built once per set of inputs and reused. */
export async function ensureImage(runtime: ContainerRuntime, loaded: LoadedDevcontainer, signal?: AbortSignal): Promise<void> {
  const { image } = loaded.spec;
  if (await runtime.hasImage(loaded.imageRef)) return;
  switch (image.kind) {
    case "image":
      await runtime.pullImage(image.ref, signal);
      return;
    case "build": {
      const dockerfile = path.relative(image.context, image.dockerfile);
      if (dockerfile.startsWith("..") || path.isAbsolute(dockerfile)) {
        throw new UserError(`${loaded.spec.source}: the Dockerfile ${image.dockerfile} is outside the build context ${image.context}`, {
          hint: 'Set "build.context" to a folder that contains the Dockerfile.',
        });
      }
      await runtime.buildImage(
        {
          tag: loaded.imageRef,
          contextDir: image.context,
          dockerfile: dockerfile.split(path.sep).join("/"),
          args: image.args,
          target: image.target ?? undefined,
          // No project label: the same inputs make the same image, which any project may reuse.
          labels: { [LABELS.image]: loaded.imageInputs ?? "" },
        },
        signal,
      );
      return;
    }
  }
}
