import { beforeAll, describe, it } from "vitest";
import { runChain } from "./chain-scenario.ts";
import { agentClisImage, useRealCliProjects } from "./real-cli-project.ts";

/** The real `opencode` (test/real-clis/pinned-clis.json) through `cspace coordinate`, against the scripted model server. */

const make = useRealCliProjects();
let image = "";
beforeAll(() => {
  image = agentClisImage();
}, 900_000);

describe("the real opencode CLI", () => {
  it("takes a chain of two issues and an independent one to the remote's main, committing through its own shell tool and retrying an API error", async () => {
    await runChain(make, "opencode", image, { send: true });
  }, 600_000);
});
