import type { FileToCopy } from "../core/instances/ports.ts";

/**
 * The files as a tar archive rooted at `/`, owned by root, with their modes:
 * what `copyIn` sends, to the Engine API (which unpacks it into the
 * container, making missing parent folders) or to `tar` in a pod.
 */
export async function tarOf(files: readonly FileToCopy[]): Promise<Buffer> {
  const { pack } = await import("tar-stream");
  const archive = pack();
  const chunks: Buffer[] = [];
  archive.on("data", (chunk: unknown) => {
    if (Buffer.isBuffer(chunk)) chunks.push(chunk);
  });
  const ended = new Promise<void>((resolve, reject) => {
    archive.on("end", resolve);
    archive.on("error", reject);
  });
  for (const file of files) {
    archive.entry({ name: file.path.replace(/^\/+/, ""), mode: file.mode, uid: 0, gid: 0 }, typeof file.content === "string" ? Buffer.from(file.content) : file.content);
  }
  archive.finalize();
  await ended;
  return Buffer.concat(chunks);
}
