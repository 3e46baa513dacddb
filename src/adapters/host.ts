import os from "node:os";
import type { Host } from "../core/host.ts";
import { gitVersionOutput } from "./git/git-version.ts";

export function systemHost(): Host {
  return { gitVersionOutput, nodeVersion: process.versions.node, uid: process.getuid?.(), tmpdir: os.tmpdir(), platform: process.platform };
}
