import type { Host } from "../../src/core/host.ts";

/**
 * The machine cspace runs on, as doctor asks about it: a healthy one by
 * default (git 2.39, Node 24, Linux, this process's uid); a test changes a
 * field to be the machine it needs (old git, old Node, no git at all).
 */
export function fakeHost(overrides: Partial<Host> = {}): Host {
  return {
    gitVersionOutput: () => Promise.resolve("git version 2.39.5"),
    nodeVersion: "24.1.0",
    uid: process.getuid?.(),
    tmpdir: "/tmp",
    platform: "linux",
    ...overrides,
  };
}
