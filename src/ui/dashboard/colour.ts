/**
 * Whether the dashboard colours its output: as Node's `util.styleText` decides
 * for a stream (and so as the rest of the CLI does, src/cli/output.ts):
 * NO_COLOR (any value) turns colour off, FORCE_COLOR on, else a terminal that
 * says it has colours.
 */
export function colourWanted(env: NodeJS.ProcessEnv, stream: { readonly isTTY?: boolean; hasColors?: () => boolean }): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false") return true;
  if (env.NODE_DISABLE_COLORS !== undefined && env.NODE_DISABLE_COLORS !== "") return false;
  return stream.isTTY === true && (stream.hasColors?.() ?? false);
}
