import { beforeAll, describe, it } from "vitest";
import { runChain } from "./chain-scenario.ts";
import { agentClisImage, useRealCliProjects } from "./real-cli-project.ts";

/** The real `gemini` (test/real-clis/pinned-clis.json) through `cspace coordinate`, against the scripted model server. */

const make = useRealCliProjects();
let image = "";
beforeAll(() => {
  image = agentClisImage();
}, 900_000);

describe("the real gemini CLI", () => {
  it("takes a chain of two issues and an independent one to the remote's main, committing through its own shell tool and retrying an API error", async () => {
    // Nothing here trusts the workspace: the preset must (issue 13, finding 4; 0.61.0 exits 55 in an untrusted one).
    await runChain(make, "gemini", image, { send: true });
  }, 600_000);
});
