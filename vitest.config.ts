import { defineConfig } from "vitest/config";

// Three lanes. `unit` needs nothing but Node and git; `cli` drives the built
// binary (npm test builds first); `docker` talks to a real Docker Engine and
// cleans up every container and image it labels.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "test/unit/**/*.test.ts"],
        },
      },
      {
        test: {
          name: "cli",
          include: ["test/cli/**/*.test.ts"],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: "docker",
          include: ["test/docker/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          globalSetup: ["test/docker/global-setup.ts"],
        },
      },
    ],
  },
});
