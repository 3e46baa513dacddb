import { describe, expect, it } from "vitest";
import { UserError } from "../errors.ts";
import type { EgressPolicy } from "../network/allowlist.ts";
import { parseDevcontainer } from "./parse.ts";
import { refuseNetworkEscapes } from "./network-confinement.ts";

const FILE = "/src/app/.devcontainer/devcontainer.json";
const ALLOW: EgressPolicy = { kind: "allow", hosts: ["registry.npmjs.org"] };
const specWith = (fields: Record<string, unknown>) =>
  parseDevcontainer(JSON.stringify({ image: "node:20-bookworm", ...fields }), { file: FILE, context: { localWorkspaceFolder: "/src/app", localEnv: {}, devcontainerId: "d1" } });

function refusal(fields: Record<string, unknown>, policy: EgressPolicy): UserError | null {
  try {
    refuseNetworkEscapes(specWith(fields), policy);
    return null;
  } catch (error) {
    if (error instanceof UserError) return error;
    throw error;
  }
}

describe("refuseNetworkEscapes", () => {
  it.each([
    [{ capAdd: ["NET_ADMIN"] }, "NET_ADMIN"],
    [{ capAdd: ["net_raw"] }, "net_raw"],
    [{ capAdd: ["SYS_PTRACE", "CAP_NET_ADMIN"] }, "CAP_NET_ADMIN"],
    [{ runArgs: ["--cap-add=ALL"] }, "ALL"],
    [{ runArgs: ["--cap-add", "NET_RAW"] }, "NET_RAW"],
  ])("refuses %j on a worker with an allowlist or none, naming the file, the key and the capability", (fields, cap) => {
    for (const policy of [ALLOW, { kind: "none" } as const]) {
      const error = refusal(fields, policy);
      expect(error?.message).toContain(`${FILE}: capAdd (or runArgs --cap-add) asks for ${cap}`);
      expect(error?.message).toContain("undo its network confinement");
      expect(error?.kind).toBe("user");
    }
  });

  it("lets an open network, and capabilities that do not touch the network, through", () => {
    expect(refusal({ capAdd: ["NET_ADMIN"] }, { kind: "open" })).toBeNull();
    expect(refusal({ capAdd: ["SYS_PTRACE"] }, ALLOW)).toBeNull();
    expect(refusal({}, { kind: "none" })).toBeNull();
  });
});
