import type * as fsPromises from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { WORKER_COMMANDS, okReply } from "../../../src/core/messaging/protocol.ts";
import { cleanUp, defer, tempDir } from "./support.ts";

// The socket server binds in folders a container can write (an instance's c.sock). A chmod by path after the bind
// would follow a link the worker swapped in, as root: so the mode must come from the umask alone, with no
// chmod of the path at all. The spy records every chmod the server makes.
const chmodCalls = vi.hoisted(() => [] as string[]);
vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof fsPromises>();
  return {
    ...actual,
    chmod: (target: string, mode: number) => {
      chmodCalls.push(target);
      return actual.chmod(target, mode);
    },
  };
});

const { serveNdjson } = await import("../../../src/adapters/messaging/server.ts");
const { lstat } = await import("node:fs/promises");

afterEach(cleanUp);

describe("a socket in a folder a worker can write", () => {
  it.each([0o600, 0o660])("gets mode %o from the umask and is never chmodded by path (a swapped-in link would be followed)", async (mode) => {
    const socket = path.join(tempDir(), "c.sock");
    const server = await serveNdjson(socket, (request) => okReply(request.id), { accepted: WORKER_COMMANDS, socketMode: mode });
    defer(() => server.close());
    const stats = await lstat(socket);
    expect(stats.isSocket()).toBe(true);
    expect(stats.mode & 0o777).toBe(mode);
    expect(chmodCalls).not.toContain(socket);
  });
});
