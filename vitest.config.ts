import { defineConfig } from "vitest/config";

// Five lanes. `unit` needs nothing but Node and git; `contract` holds both
// forges to one suite; `cli` drives the built binary (npm test builds first);
// `docker` talks to a real Docker Engine and cleans up everything it labels;
// `real-clis` runs the pinned agent CLIs in workers against a scripted model server.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["src/**/*.test.ts", "test/unit/**/*.test.ts"],
          // Many unit tests drive real git; on CI's 2 busy cores a 5 s
          // default timed some out. Timeouts catch hangs, not slowness.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          // The forge contract suite: real git repositories, an in-process
          // GitHub simulator; no engine and no build needed.
          name: "contract",
          include: ["test/contract/**/*.test.ts"],
          testTimeout: 60_000,
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
          // test/hostile/ plays a prompt-injected agent inside real workers
          // (docs/security.md maps each attack to its defence).
          name: "docker",
          include: ["test/docker/**/*.test.ts", "test/hostile/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          globalSetup: ["test/docker/global-setup.ts"],
        },
      },
      {
        test: {
          // The pinned real agent CLIs (test/real-clis/pinned-clis.json) in
          // real workers against the scripted model server on each worker's
          // loopback: no API key, no network. One file at a time: each runs
          // several heavy CLIs at once on CI's two cores.
          name: "real-clis",
          include: ["test/real-clis/**/*.test.ts"],
          testTimeout: 600_000,
          hookTimeout: 900_000,
          fileParallelism: false,
          globalSetup: ["test/docker/global-setup.ts"],
        },
      },
      // Opt-in only: the ContainerRuntime contract on a real Kubernetes cluster (`npm run test:k8s` with
      // CSPACE_K8S_CONTEXT and CSPACE_K8S_NAMESPACE); never in `npm test` or CI, which have no cluster.
      ...(process.env.CSPACE_K8S_CONTEXT === undefined || process.env.CSPACE_K8S_CONTEXT === ""
        ? []
        : [{ test: { name: "k8s", include: ["test/k8s/**/*.test.ts"], testTimeout: 300_000, hookTimeout: 300_000, fileParallelism: false } }]),
      // Opt-in only (real agent CLIs, real API keys, real cost): never in `npm test` or CI.
      ...(process.env.CSPACE_REAL_AGENTS === "1"
        ? [{ test: { name: "real-agents", include: ["test/real-agents/**/*.test.ts"], testTimeout: 600_000 } }]
        : []),
    ],
  },
});
