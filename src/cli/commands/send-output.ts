import type { Output } from "../output.ts";

/** What `cspace send` prints, the same from the full CLI and its fast path. */
export function printSent(out: Output, result: { readonly instance: string; readonly queueDepth: number } | { readonly instance: string; readonly answer: string }): void {
  if (out.json) out.data(result);
  else if ("answer" in result) out.line(`coordinator: ${result.answer}`);
  else out.line(`sent to ${result.instance} (${String(result.queueDepth)} message${result.queueDepth === 1 ? "" : "s"} waiting for the agent)`);
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(typeof chunk === "string" ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}
