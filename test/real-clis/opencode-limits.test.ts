import { beforeAll, describe, it } from "vitest";
import { runLimits } from "./limits-scenario.ts";
import { agentClisImage, useRealCliProjects } from "./real-cli-project.ts";

/** The real `opencode` (test/real-clis/pinned-clis.json) meeting an API error and its account's usage limit, through `cspace coordinate`. */

const make = useRealCliProjects();
let image = "";
beforeAll(() => {
  image = agentClisImage();
}, 900_000);

describe("the real opencode CLI meeting API errors and usage limits", () => {
  it("retries an API error and waits out a usage limit by itself, printing nothing of either: no api-retry, no RateLimited, both issues merge", async () => {
    // 1.18.33 prints nothing of either in `run --format json`: it retries the error, and waits out the limit for the retry-after it was sent.
    await runLimits(make, "opencode", image, {
      retryLines: ["#model fail 529 once"],
      retryStatuses: [529],
      retryEvents: [],
      limit: { kind: "waits", seconds: 20 },
    });
  }, 600_000);
});
