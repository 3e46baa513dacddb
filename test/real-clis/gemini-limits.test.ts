import { beforeAll, describe, it } from "vitest";
import { runLimits } from "./limits-scenario.ts";
import { agentClisImage, useRealCliProjects } from "./real-cli-project.ts";

/** The real `gemini` (test/real-clis/pinned-clis.json) meeting an API error and its account's usage limit, through `cspace coordinate`. */

const make = useRealCliProjects();
let image = "";
beforeAll(() => {
  image = agentClisImage();
}, 900_000);

describe("the real gemini CLI meeting API errors and usage limits", () => {
  it("shows its API retry (said on stderr) as an api-retry event, and its daily quota (no reset time given) parks the account: with onUsageLimit \"fail\" the issue fails with the reason", async () => {
    // 0.61.0 says a retry on stderr only ("Attempt 1 failed with status 500. Retrying with backoff..."), and ends on a daily quota with exit 173.
    await runLimits(make, "gemini", image, {
      retryLines: ["#model fail 500 once"],
      retryStatuses: [500],
      retryEvents: ["API error 500, retry 1"],
      limit: { kind: "gives-up", message: /You have exhausted your daily quota on this model/ },
    });
  }, 600_000);
});
