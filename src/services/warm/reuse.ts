import type { ContainerDetails, ContainerRuntime, ExecOptions } from "../../core/instances/ports.ts";
import type { WarmAction } from "../../core/instances/warm-events.ts";
import type { StepGate } from "./bring-up.ts";
import { runLifecycle, type LifecycleRun } from "./steps.ts";
import { validate } from "./validate.ts";

/**
 * An existing container with its workspace, made ready again: validated as
 * it is, or started first when stopped (and once more when it stops before
 * the checks end: `docker kill` or the OOM killer after it was inspected),
 * never remade. The same on every host.
 */
export async function reuseExisting(
  runtime: ContainerRuntime,
  existing: ContainerDetails,
  commit: string,
  how: { readonly access: ExecOptions; readonly postStart: LifecycleRun; readonly step: StepGate },
): Promise<{ action: WarmAction; commit: string }> {
  const { step } = how;
  let action: WarmAction = existing.state === "running" ? "validated" : "restarted";
  for (let check = 1; ; check++) {
    if (action === "restarted") {
      await step("start");
      await runtime.start(existing.id);
      await step("postStart");
      await runLifecycle(runtime, existing.id, how.postStart);
    }
    await step("validate");
    try {
      await validate(runtime, existing.id, how.access, { commit, exact: false });
      return { action, commit };
    } catch (error) {
      const now = await runtime.inspect(existing.id);
      if (check > 1 || now === null || now.state === "running") throw error;
      action = "restarted";
    }
  }
}
