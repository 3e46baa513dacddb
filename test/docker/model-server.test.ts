import { copyFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, inject, it } from "vitest";
import { DockerRuntime } from "../../src/adapters/docker/containers.ts";
import { BASE_IMAGE, testDocker, testLabels } from "../support/docker.ts";
import { modelServerFile } from "../support/model-server/index.ts";
import { useTempDirs } from "../support/temp-dirs.ts";

/**
 * The scripted model server as the real-CLI lane runs it: the bundled file on
 * the base image's Node 18, inside a container with no network but its
 * loopback, listening on 127.0.0.1 only, answered from inside the container.
 */

const runId = inject("cspaceTestRun");
const docker = testDocker();
const made: string[] = [];
const tempDir = useTempDirs("model-server-docker");

afterEach(async () => {
  await Promise.all(made.splice(0).map((id) => docker.getContainer(id).remove({ force: true })));
});

/** Asks the server from inside the container, retrying the connection until the server listens (its start is not awaited otherwise). */
const CLIENT = `
const body = JSON.stringify({ model: "claude-opus-5-5", stream: true, tools: [{ name: "Bash" }], messages: [{ role: "user", content: "Commit.\\n#model shell git commit -qm x" }] });
(async () => {
  for (;;) {
    try {
      const response = await fetch("http://127.0.0.1:8787/v1/messages?beta=true", { method: "POST", body });
      process.stdout.write(await response.text());
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
})();
`;

/** Local addresses of the listening sockets on port 8787 (hex 2253), from the kernel's tables: the base image has no ss or awk. */
const LISTENING = `
const fs = require("fs");
const rows = ["/proc/net/tcp", "/proc/net/tcp6"].flatMap((file) => fs.readFileSync(file, "utf8").trim().split("\\n").slice(1));
const fields = rows.map((row) => row.trim().split(/\\s+/));
console.log(fields.filter((f) => f[3] === "0A" && f[1].endsWith(":2253")).map((f) => f[1]).join("\\n"));
`;

describe("model server in a worker container", () => {
  it("runs on the base image's Node from the bundled file, on loopback only, and answers and logs from inside", async () => {
    const dir = await tempDir();
    await copyFile(await modelServerFile(), path.join(dir, "server.mjs"));
    const created = await docker.createContainer({
      Image: BASE_IMAGE,
      Cmd: ["node", "/opt/model-server/server.mjs", "--port", "8787", "--log", "/tmp/model-server.ndjson"],
      Labels: testLabels(runId, `model-server-${runId}`),
      HostConfig: { NetworkMode: "none", Binds: [`${dir}:/opt/model-server:ro`] },
    });
    made.push(created.id);
    await created.start();
    const runtime = new DockerRuntime(process.env);

    const answered = await runtime.exec(created.id, ["node", "-e", CLIENT]);
    expect(answered.exitCode).toBe(0);
    expect(answered.stdout).toContain("event: message_stop");
    expect(answered.stdout).toContain(String.raw`"partial_json":"{\"command\":\"git commit -qm x\"`);

    const logged = await runtime.exec(created.id, ["cat", "/tmp/model-server.ndjson"]);
    expect(JSON.parse(logged.stdout)).toMatchObject({ api: "anthropic", path: "/v1/messages", status: 200, answer: "shell", tool: "Bash", command: "git commit -qm x" });

    // Listening sockets (state 0A) on port 8787 (2253): bound to 127.0.0.1 (0100007F) and nothing else.
    const sockets = await runtime.exec(created.id, ["node", "-e", LISTENING]);
    expect(sockets.stdout.trim().split("\n")).toEqual(["0100007F:2253"]);
  });
});
