// Loaded with --import into a measured process: at exit, writes the process's
// peak resident memory (KiB, from getrusage) to the file named by
// CSPACE_BENCH_RSS_FILE. Only for the memory figure, never for timings.
import { writeFileSync } from "node:fs";

const file = process.env.CSPACE_BENCH_RSS_FILE;
if (file !== undefined) {
  process.on("exit", () => {
    writeFileSync(file, String(process.resourceUsage().maxRSS));
  });
}
