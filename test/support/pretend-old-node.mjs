// Preloaded with --import by test/cli/entry.test.ts: makes this Node report an
// old version, so the entry shim's refusal can be tested on any machine.
Object.defineProperty(process.versions, "node", { value: "20.11.1" });
