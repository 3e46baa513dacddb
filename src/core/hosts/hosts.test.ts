import { describe, expect, it } from "vitest";
import { resolveConfig } from "../config/layers.ts";
import { UserError } from "../errors.ts";
import { hostNamed, hostOfContainer, localHostName, onlyTheLocalHost, workerHosts } from "./hosts.ts";

const configOf = (value: unknown) => resolveConfig({ files: [{ source: ".cspace.json", value }], env: {}, defaultProjectName: "demo" });

describe("workerHosts", () => {
  it("gives each host its kind, and a host without slots coordinator.maxParallel", () => {
    const hosts = workerHosts(
      configOf({
        coordinator: { maxParallel: 6 },
        workers: {
          hosts: [
            { name: "laptop" },
            { name: "big", docker: "ssh://ci@build-1.internal", slots: 12 },
            { name: "ci", docker: "tcp://10.0.0.5:2376" },
            { name: "other", docker: "unix:///var/run/docker.sock", slots: 1 },
            { name: "k8s", kubernetes: { namespace: "agents" }, slots: 30 },
          ],
        },
      }),
    );
    expect(hosts.map(({ name, kind, slots }) => [name, kind, slots])).toEqual([
      ["laptop", "local", 6],
      ["big", "ssh", 12],
      ["ci", "docker", 6],
      ["other", "docker", 1],
      ["k8s", "kubernetes", 30],
    ]);
    expect(onlyTheLocalHost(hosts)).toBe(false);
    expect(localHostName(hosts)).toBe("laptop");
  });

  it("is the local engine alone by default", () => {
    const hosts = workerHosts(configOf({}));
    expect(hosts).toEqual([{ name: "local", kind: "local", slots: 4, settings: { name: "local" } }]);
    expect(onlyTheLocalHost(hosts)).toBe(true);
  });

  it("names the local engine 'local' when no host is it", () => {
    expect(localHostName(workerHosts(configOf({ workers: { hosts: [{ name: "big", docker: "ssh://big" }] } })))).toBe("local");
  });
});

describe("hostNamed", () => {
  it("finds a configured host, and names the configured ones when there is no such host", () => {
    const hosts = workerHosts(configOf({ workers: { hosts: [{ name: "local" }, { name: "big", docker: "ssh://big" }] } }));
    expect(hostNamed(hosts, "big").kind).toBe("ssh");
    expect(() => hostNamed(hosts, "bigg")).toThrow(UserError);
    expect(() => hostNamed(hosts, "bigg")).toThrow('no host named "bigg" in workers.hosts; configured: local, big');
  });
});

describe("hostOfContainer", () => {
  it("reads the host label, and takes a container without one (made before hosts) for the local engine", () => {
    expect(hostOfContainer({ "dev.cspace.host": "big" })).toBe("big");
    expect(hostOfContainer({ "dev.cspace.project": "p" })).toBe("local");
  });
});
