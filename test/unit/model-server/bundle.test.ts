import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { createInterface } from "node:readline";
import { describe, expect, it } from "vitest";
import { modelServerFile } from "../../support/model-server/index.ts";
import { useTempDirs } from "../../support/temp-dirs.ts";

describe("model server bundle", () => {
  const tempDir = useTempDirs("model-server-bundle");

  it("is one file importing only Node's built-ins, runnable as `node <file> --port 0 --log <path>`", async () => {
    const file = await modelServerFile();
    const source = await readFile(file, "utf8");
    const imports = [...source.matchAll(/^import .* from "([^"]+)";$/gm)].map((match) => match[1]);
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((name) => name?.startsWith("node:") !== true)).toEqual([]);

    const logPath = path.join(await tempDir(), "log.ndjson");
    const child = spawn(process.execPath, [file, "--port", "0", "--log", logPath], { stdio: ["ignore", "pipe", "inherit"] });
    try {
      const exited = once(child, "exit").then(([code]) => {
        throw new Error(`the bundled server exited (${String(code)}) before listening`);
      });
      const [line] = (await Promise.race([once(createInterface({ input: child.stdout }), "line"), exited])) as [string];
      const url = /^model-server listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(line)?.[1];
      expect(url).toBeDefined();
      const response = await fetch(`${String(url)}/v1/messages`, { method: "POST", body: JSON.stringify({ model: "m", tools: [{ name: "Bash" }], messages: [{ role: "user", content: "#model say Hello." }] }) });
      expect(await response.json()).toMatchObject({ content: [{ type: "text", text: "Hello." }] });
      expect(JSON.parse(await readFile(logPath, "utf8"))).toMatchObject({ api: "anthropic", status: 200, answer: "text" });
    } finally {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        await once(child, "exit");
      }
    }
  });
});
