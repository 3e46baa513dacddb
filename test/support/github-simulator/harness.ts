import { createGithubForge, type GithubForgeOptions } from "../../../src/adapters/forge/github/forge.ts";
import type { Forge } from "../../../src/core/forge/port.ts";
import type { FaultInjector, ForgeSeed } from "../../contract/forge-contract.ts";
import { simulatorFaults, simulatorSeed } from "./seed.ts";
import { startGithubSimulator, type GithubSimulator } from "./server.ts";

/** Throttling and polling shrunk to milliseconds: same code paths, no waiting. */
export const fastThrottle = {
  throttle: { writeSpacingMs: 0, notificationSpacingMs: 0, retryBaseMs: 1 },
  mergeabilityPoll: { attempts: 5, initialDelayMs: 1 },
} satisfies Partial<GithubForgeOptions>;

export interface SimulatedGithub {
  readonly simulator: GithubSimulator;
  readonly forge: Forge;
  readonly seed: ForgeSeed;
  readonly faults: FaultInjector;
  /** Fails on any recorded violation of GitHub's description, and always closes the simulator. */
  teardown(): Promise<void>;
}

export async function simulatedGithub(overrides: Partial<GithubForgeOptions> = {}): Promise<SimulatedGithub> {
  const simulator = await startGithubSimulator({ repo: "octo/widgets" });
  const forge = createGithubForge({ repo: simulator.repo, token: simulator.token, apiUrl: simulator.url, ...fastThrottle, ...overrides });
  return {
    simulator,
    forge,
    seed: simulatorSeed(simulator),
    faults: simulatorFaults(simulator),
    async teardown() {
      try {
        simulator.assertNoViolations();
      } finally {
        await simulator.close();
      }
    },
  };
}
