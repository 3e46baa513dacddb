import { randomBytes } from "node:crypto";
import { text } from "node:stream/consumers";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { WORKER_CAPABILITIES, type ContainerCreateSpec } from "../../src/core/devcontainer/create-options.ts";
import { ExternalError, UserError } from "../../src/core/errors.ts";
import type { ContainerRuntime } from "../../src/core/instances/ports.ts";

/**
 * The behaviour cspace relies on from every ContainerRuntime, run against the
 * in-memory fake (test/contract/container-runtime-fake.test.ts), the Docker
 * adapter on the real engine (test/docker/container-runtime-docker.test.ts)
 * and the Kubernetes adapter on the fake API server
 * (test/contract/container-runtime-kubernetes.test.ts; `npm run test:k8s`
 * runs it on a real cluster).
 *
 * A world declares what its containers can do: the in-memory fake runs no
 * commands (tests script its answers), so the parts about commands, files
 * and the main process's output apply only where something really runs.
 * Docker networks and image builds are Docker's own: a world either does
 * them or refuses them with a UserError that says what to do instead.
 */
export interface RuntimeWorld {
  readonly runtime: ContainerRuntime;
  /** An image the runtime can run. */
  readonly image: string;
  /** Labels every container this world makes carries (what its teardown removes). */
  readonly labels: Readonly<Record<string, string>>;
  /** An absolute path inside the containers that exists and root can write: where file tests go. */
  readonly scratch: string;
  /** Ends the container's main process from outside, as a crash or `docker kill` would. */
  kill(id: string): Promise<void>;
  teardown(): Promise<void>;
}

/** What a runtime's containers can do, known before any world is made (it decides which tests there are). */
export interface RuntimeAbilities {
  /** exec and execStream run the command. */
  readonly commands: boolean;
  /** copyIn writes files the container's commands see. */
  readonly files: boolean;
  /** The container's own command runs and its output is the log. */
  readonly mainProcess: boolean;
  /** Docker networks and image builds: done, or refused with a UserError saying what to do instead. */
  readonly dockerOnly: "supported" | "unsupported";
}

/** A label value Kubernetes could not hold as a label (a path, longer than 63): cspace's project directory is one. */
const LONG_VALUE = `/home/someone/projects/${"a-rather-deep-directory/".repeat(3)}the project`;

const KEEP_ALIVE = "echo main says hello; trap 'exit 0' TERM INT; while sleep 3600 & wait $!; do :; done";

export function containerRuntimeContract(name: string, abilities: RuntimeAbilities, makeWorld: () => Promise<RuntimeWorld>): void {
  describe(`ContainerRuntime contract: ${name}`, () => {
    let world: RuntimeWorld;
    const made: string[] = [];
    const volumes: string[] = [];

    beforeEach(async () => {
      world = await makeWorld();
    });

    afterEach(async () => {
      await Promise.all(made.splice(0).map((id) => world.runtime.remove(id).catch(() => false)));
      await Promise.all(volumes.splice(0).map((name) => world.runtime.removeVolume(name).catch(() => false)));
      await world.teardown();
    });

    const unique = (): string => `contract-${randomBytes(4).toString("hex")}`;

    function specOf(instance: string, extra: Partial<ContainerCreateSpec> = {}): ContainerCreateSpec {
      return {
        name: `cspace-${instance}`,
        Image: world.image,
        Env: ["CONTRACT_VAR=from create", "CONTRACT_SPACES=a b  c"],
        Labels: { ...world.labels, "dev.cspace.instance": instance, "dev.cspace.project-dir": LONG_VALUE },
        WorkingDir: "/",
        Entrypoint: ["/bin/sh", "-c"],
        Cmd: [KEEP_ALIVE],
        HostConfig: { Mounts: [], CapDrop: ["ALL"], CapAdd: [...WORKER_CAPABILITIES], SecurityOpt: ["no-new-privileges"] },
        ...extra,
      };
    }

    async function running(instance = unique(), extra: Partial<ContainerCreateSpec> = {}): Promise<string> {
      const id = await world.runtime.create(specOf(instance, extra));
      made.push(id);
      await world.runtime.start(id);
      return id;
    }

    describe("containers", () => {
      it("creates a container that inspect and list find by id, name and every label, long values included", async () => {
        const instance = unique();
        const id = await world.runtime.create(specOf(instance));
        made.push(id);
        const details = await world.runtime.inspect(id);
        expect(details).toMatchObject({ id, name: `cspace-${instance}`, image: world.image, labels: { "dev.cspace.instance": instance, "dev.cspace.project-dir": LONG_VALUE } });
        expect(details?.env).toEqual(expect.arrayContaining(["CONTRACT_VAR=from create", "CONTRACT_SPACES=a b  c"]));
        expect(["created", "running"]).toContain(details?.state);
        expect(Number.isNaN(Date.parse(details?.createdAt ?? ""))).toBe(false);
        expect((await world.runtime.inspect(`cspace-${instance}`))?.id).toBe(id);

        const found = await world.runtime.list({ ...world.labels, "dev.cspace.instance": instance, "dev.cspace.project-dir": LONG_VALUE });
        expect(found.map((c) => c.id)).toEqual([id]);
        expect(found[0]?.labels).toMatchObject({ "dev.cspace.instance": instance, "dev.cspace.project-dir": LONG_VALUE });
        expect(await world.runtime.list({ ...world.labels, "dev.cspace.instance": instance, "dev.cspace.project-dir": `${LONG_VALUE}/other` })).toEqual([]);
        expect(await world.runtime.list({ ...world.labels, "dev.cspace.instance": unique() })).toEqual([]);
      });

      it("starts a created container", async () => {
        const id = await running();
        expect((await world.runtime.inspect(id))?.state).toBe("running");
      });

      it("answers null for a container that is not there, and remove answers false for one already gone", async () => {
        expect(await world.runtime.inspect(`cspace-${unique()}`)).toBeNull();
        const id = await running();
        expect(await world.runtime.remove(id)).toBe(true);
        expect(await world.runtime.inspect(id)).toBeNull();
        expect(await world.runtime.list({ ...world.labels })).not.toContainEqual(expect.objectContaining({ id }));
        expect(await world.runtime.remove(id)).toBe(false);
      });

      it("refuses a second container of the same name with an ExternalError naming it", async () => {
        const instance = unique();
        await running(instance);
        const again = world.runtime.create(specOf(instance));
        await expect(again).rejects.toBeInstanceOf(ExternalError);
        await expect(again).rejects.toThrow(`cspace-${instance}`);
      });

      it("reports a removed container to watchStopped with its labels, and only the containers it watches", async () => {
        const watched = unique();
        const other = unique();
        const reports: Readonly<Record<string, string>>[] = [];
        let heard: () => void = () => undefined;
        const reported = new Promise<void>((resolve) => (heard = resolve));
        const unwatch = await world.runtime.watchStopped({ ...world.labels, "dev.cspace.instance": watched }, (labels) => {
          reports.push(labels);
          heard();
        });
        try {
          const otherId = await running(other);
          const watchedId = await running(watched);
          await world.runtime.remove(otherId);
          await world.runtime.remove(watchedId);
          await reported;
          expect(reports.length).toBeGreaterThanOrEqual(1);
          for (const labels of reports) expect(labels).toMatchObject({ "dev.cspace.instance": watched, "dev.cspace.project-dir": LONG_VALUE });
        } finally {
          unwatch();
        }
      });

      it("reports a container whose main process was killed", async () => {
        const instance = unique();
        const id = await running(instance);
        let heard: (labels: Readonly<Record<string, string>>) => void = () => undefined;
        const reported = new Promise<Readonly<Record<string, string>>>((resolve) => (heard = resolve));
        // watchStopped resolves once the runtime's watch is open: what happens after it is seen.
        const unwatch = await world.runtime.watchStopped({ ...world.labels, "dev.cspace.instance": instance }, (labels) => {
          heard(labels);
        });
        try {
          await world.kill(id);
          expect(await reported).toMatchObject({ "dev.cspace.instance": instance, "dev.cspace.project-dir": LONG_VALUE });
        } finally {
          unwatch();
        }
      });

      it("fails with an ExternalError naming the container when it is not there", async () => {
        const missing = `cspace-${unique()}`;
        await expect(world.runtime.start(missing)).rejects.toBeInstanceOf(ExternalError);
        await expect(world.runtime.start(missing)).rejects.toThrow(missing.slice(0, 12));
        await expect(world.runtime.exec(missing, ["true"])).rejects.toBeInstanceOf(ExternalError);
        await expect(world.runtime.exec(missing, ["true"])).rejects.toThrow(missing.slice(0, 12));
      });
    });

    describe("volumes", () => {
      /** A container mounting the named volume at /contract-volume, as the workspace transport mounts a worker's checkout. */
      function mounting(volume: string, readOnly: boolean): Partial<ContainerCreateSpec> {
        const { HostConfig } = specOf("unused");
        return { HostConfig: { ...HostConfig, Mounts: [{ Type: "volume", Source: volume, Target: "/contract-volume", ReadOnly: readOnly, VolumeOptions: { Labels: { ...world.labels, "dev.cspace.project-dir": LONG_VALUE } } }] } };
      }

      const removeContainer = async (id: string): Promise<void> => {
        made.splice(made.indexOf(id), 1);
        expect(await world.runtime.remove(id)).toBe(true);
      };

      it("makes a named volume on its first mount, keeps what is written there past its containers, mounts it read-only where asked, and removes it once", async () => {
        const volume = `cspace-contract-${randomBytes(4).toString("hex")}`;
        volumes.push(volume);
        expect(await world.runtime.removeVolume(volume)).toBe(false);

        const writer = await running(unique(), mounting(volume, false));
        // Found by its labels (what `down --all` removes on a host), with them whole, even one no Kubernetes label can hold.
        const listed = await world.runtime.listVolumes({ ...world.labels, "dev.cspace.project-dir": LONG_VALUE });
        expect(listed.filter((found) => found.name === volume)).toEqual([{ name: volume, labels: { ...world.labels, "dev.cspace.project-dir": LONG_VALUE } }]);
        expect((await world.runtime.listVolumes({ ...world.labels, "dev.cspace.project-dir": "elsewhere" })).map((found) => found.name)).not.toContain(volume);
        if (abilities.commands) {
          const wrote = await world.runtime.exec(writer, ["/bin/sh", "-c", "echo kept > /contract-volume/file && cat /contract-volume/file"], { user: "0" });
          expect(wrote).toEqual({ exitCode: 0, stdout: "kept\n", stderr: "" });
        }
        await removeContainer(writer);

        const reader = await running(unique(), mounting(volume, true));
        if (abilities.commands) {
          expect((await world.runtime.exec(reader, ["cat", "/contract-volume/file"])).stdout).toBe("kept\n");
          // Read-only even to root: the mount, not file modes, refuses the write.
          const refused = await world.runtime.exec(reader, ["/bin/sh", "-c", "echo lost > /contract-volume/file"], { user: "0" });
          expect(refused.exitCode).not.toBe(0);
          expect(refused.stderr).toMatch(/Read-only file system/);
          expect((await world.runtime.exec(reader, ["cat", "/contract-volume/file"])).stdout).toBe("kept\n");
        }
        await removeContainer(reader);

        expect(await world.runtime.removeVolume(volume)).toBe(true);
        expect(await world.runtime.removeVolume(volume)).toBe(false);
        expect((await world.runtime.listVolumes(world.labels)).map((found) => found.name)).not.toContain(volume);
      });
    });

    // The in-memory fake runs no commands (tests script its answers): these are for runtimes where something runs.
    if (abilities.commands) describe("commands", () => {

      it("runs a command: its exit code, and stdout and stderr apart", async () => {
        const id = await running();
        const outcome = await world.runtime.exec(id, ["/bin/sh", "-c", "echo out; echo err >&2; exit 3"]);
        expect(outcome).toEqual({ exitCode: 3, stdout: "out\n", stderr: "err\n" });
      });

      it("runs a command as a user, in a working directory, with the container's env and its own", async () => {
        const id = await running();
        const outcome = await world.runtime.exec(id, ["/bin/sh", "-c", 'id -u; pwd; echo "$CONTRACT_VAR|$CONTRACT_SPACES|$CONTRACT_EXEC"', "ignored"], {
          user: "65534",
          workdir: world.scratch,
          env: { CONTRACT_EXEC: "it's \"quoted\" $HOME" },
        });
        expect(outcome).toEqual({ exitCode: 0, stdout: `65534\n${world.scratch}\nfrom create|a b  c|it's "quoted" $HOME\n`, stderr: "" });
      });

      it("runs commands as the container's user unless told otherwise, and as root when asked", async () => {
        const id = await running(unique(), { User: "65534:65534" });
        expect((await world.runtime.exec(id, ["id", "-u"])).stdout).toBe("65534\n");
        expect((await world.runtime.exec(id, ["id", "-g"])).stdout).toBe("65534\n");
        expect((await world.runtime.exec(id, ["id", "-u"], { user: "0" })).stdout).toBe("0\n");
      });

      it("streams a command's input and output while it runs, and its exit code once input ends", async () => {
        const id = await running();
        const stream = await world.runtime.execStream(id, ["/bin/sh", "-c", 'while read -r line; do echo "got $line"; echo "saw $line" >&2; done; echo bye; exit 4']);
        const err = text(stream.stderr);
        const lines = lineReader(stream.stdout);
        stream.stdin.write("first\n");
        // Answered before input ends: the command and cspace talk, as the message relay does.
        expect(await lines.next()).toBe("got first");
        stream.stdin.write("second\n");
        expect(await lines.next()).toBe("got second");
        stream.stdin.end();
        expect(await lines.next()).toBe("bye");
        expect(await lines.next()).toBeNull();
        expect(await err).toBe("saw first\nsaw second\n");
        expect(await stream.exit).toBe(4);
      });

      it("carries large binary input through a stream intact", async () => {
        const id = await running();
        const stream = await world.runtime.execStream(id, ["/bin/sh", "-c", "wc -c"]);
        const out = text(stream.stdout);
        stream.stdin.end(Buffer.alloc(2 * 1024 * 1024 + 3, 0xff));
        expect((await out).trim()).toBe(String(2 * 1024 * 1024 + 3));
        expect(await stream.exit).toBe(0);
      });

      if (abilities.files) it("copies files in, owned by root, with their modes, making the folders they need", async () => {
        const id = await running();
        const dir = `${world.scratch}/copied-${unique()}/deeper`;
        await world.runtime.copyIn(id, [
          { path: `${dir}/tool.sh`, content: "#!/bin/sh\necho copied tool\n", mode: 0o755 },
          { path: `${dir}/secret`, content: Buffer.from("s3cret"), mode: 0o600 },
        ]);
        const outcome = await world.runtime.exec(id, ["/bin/sh", "-c", 'stat -c "%a %u" "$1/tool.sh" "$1/secret"; "$1/tool.sh"; cat "$1/secret"', "sh", dir], { user: "0" });
        expect(outcome).toEqual({ exitCode: 0, stdout: "755 0\n600 0\ncopied tool\ns3cret", stderr: "" });
      });

      if (abilities.mainProcess) it("gives what the container's main process wrote as its logs", async () => {
        const id = await running();
        // The main process writes as it starts; its log is read until the line is there.
        expect(await eventually(async () => ((await world.runtime.logs(id)).includes("main says hello") ? true : null))).toBe(true);
      });
    });

    describe("Docker's own: networks and image builds", () => {
      it("makes, lists and removes networks where it has them, and refuses them with a UserError saying what to do where not", async () => {
        const network = `cspace-contract-${unique()}`;
        const spec = { Name: network, Internal: true, Labels: { ...world.labels } };
        if (abilities.dockerOnly === "unsupported") {
          const refused = world.runtime.ensureNetwork(spec);
          await expect(refused).rejects.toBeInstanceOf(UserError);
          await expect(refused).rejects.toMatchObject({ hint: expect.stringMatching(/NetworkPolicy/) as unknown });
          expect(await world.runtime.listNetworks(world.labels)).toEqual([]);
          return;
        }
        const id = await world.runtime.ensureNetwork(spec);
        try {
          expect(await world.runtime.ensureNetwork(spec)).toBe(id);
          expect((await world.runtime.listNetworks(world.labels)).map((n) => n.name)).toContain(network);
        } finally {
          expect(await world.runtime.removeNetwork(id)).toBe(true);
        }
        expect(await world.runtime.removeNetwork(id)).toBe(false);
      });

      if (abilities.dockerOnly === "unsupported") it("refuses image builds with a UserError naming devcontainer.json's image", async () => {
        const refused = world.runtime.buildImage({ tag: "cspace-image:contract", contextDir: world.scratch, dockerfile: "Dockerfile", args: {}, labels: world.labels });
        await expect(refused).rejects.toBeInstanceOf(UserError);
        await expect(refused).rejects.toMatchObject({ hint: expect.stringMatching(/push it to a registry.*"image"/) as unknown });
      });
    });
  });
}

/** Lines of a stream one at a time; null at its end. */
function lineReader(stream: NodeJS.ReadableStream): { next(): Promise<string | null> } {
  let buffered = "";
  let ended = false;
  let wake: () => void = () => undefined;
  stream.setEncoding("utf8");
  stream.on("data", (chunk: string) => {
    buffered += chunk;
    wake();
  });
  stream.on("end", () => {
    ended = true;
    wake();
  });
  return {
    async next() {
      for (;;) {
        const at = buffered.indexOf("\n");
        if (at !== -1) {
          const line = buffered.slice(0, at);
          buffered = buffered.slice(at + 1);
          return line;
        }
        if (ended) return buffered === "" ? null : buffered;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

/** Asks until `probe` answers (not null); the test's timeout bounds it. */
async function eventually<T>(probe: () => Promise<T | null>): Promise<T> {
  for (let wait = 20; ; wait = Math.min(wait * 2, 500)) {
    const answer = await probe();
    if (answer !== null) return answer;
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
