import { render } from "ink";
import React from "react";
import { Dashboard, type DashboardExit, type DashboardProps } from "./view.ts";

export interface RunDashboardOptions extends Omit<DashboardProps, "onExit" | "size"> {
  readonly stdout: NodeJS.WriteStream;
  readonly stdin: NodeJS.ReadStream;
  readonly stderr: NodeJS.WriteStream;
  /** Ends the view from outside (the coordinator's process exited): resolves `{ kind: "stopped" }`. */
  readonly signal?: AbortSignal | undefined;
}

export type DashboardOutcome = DashboardExit | { readonly kind: "stopped" };

/**
 * Draws the dashboard on a terminal until it is left (`q`, Ctrl-C), the run
 * ends, or `signal` aborts; the last frame stays on screen. Ink redraws in
 * place, only the lines that changed, at most 10 times a second; Ctrl-C is a
 * key here (the terminal is in raw mode), handed back to the caller as
 * `interrupted`.
 */
export async function runDashboard(options: RunDashboardOptions): Promise<DashboardOutcome> {
  const { stdout, stdin, stderr, signal, ...props } = options;
  let settle: (outcome: DashboardOutcome) => void = () => undefined;
  const outcome = new Promise<DashboardOutcome>((resolve) => {
    settle = resolve;
  });
  const onExit = (exit: DashboardExit): void => {
    settle(exit);
  };
  const onAbort = (): void => {
    settle({ kind: "stopped" });
  };
  if (signal?.aborted === true) return { kind: "stopped" };
  signal?.addEventListener("abort", onAbort, { once: true });
  const instance = render(React.createElement(Dashboard, { ...props, onExit }), {
    stdout,
    stdin,
    stderr,
    exitOnCtrlC: false,
    maxFps: 10,
    incrementalRendering: true,
    // Ink would otherwise draw nothing until the end where a CI variable is set; the caller checked for a terminal.
    interactive: true,
  });
  try {
    return await outcome;
  } finally {
    signal?.removeEventListener("abort", onAbort);
    instance.unmount();
    await instance.waitUntilExit().catch(() => undefined);
  }
}
