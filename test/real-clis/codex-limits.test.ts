import { beforeAll, describe, it } from "vitest";
import { runLimits } from "./limits-scenario.ts";
import { agentClisImage, useRealCliProjects } from "./real-cli-project.ts";

/** The real `codex` (test/real-clis/pinned-clis.json) meeting an API error and its account's usage limit, through `cspace coordinate`. */

const make = useRealCliProjects();
let image = "";
beforeAll(() => {
  image = agentClisImage();
}, 900_000);

describe("the real codex CLI meeting API errors and usage limits", () => {
  it("shows its API retry as an api-retry event, and its usage limit (no reset time given) parks the account: with onUsageLimit \"fail\" the issue fails with the reason", async () => {
    // 0.171.0 retries a failing request four times without a word, then retries the turn's stream and says so: "Reconnecting... 1/5 (…529…)".
    await runLimits(make, "codex", image, {
      retryLines: ["#model fail 529 5 times"],
      retryStatuses: [529, 529, 529, 529, 529],
      retryEvents: ["API error 529, retry 1 of 5"],
      limit: { kind: "gives-up", message: /^You’ve hit your usage limit\. .*try again at / },
    });
  }, 600_000);
});
