import { ExternalError } from "../../src/core/errors.ts";
import type { Forge } from "../../src/core/forge/port.ts";
import type { PortOverrides } from "../../src/services/project.ts";
import { FakeContainerRuntime } from "./container-runtime.ts";
import { fakeHost } from "./host.ts";
import { FakeCoordinatorLock, FakeEventStore } from "./event-store.ts";
import { FakeInstanceLocks } from "./instance-locks.ts";
import { FakeWorkspaceStore } from "./workspace-store.ts";
import { FakeWorkspaceTransport } from "./workspace-transport.ts";

export interface FakePorts {
  readonly runtime: FakeContainerRuntime;
  /** The engine of each host other than the local one, by host name (`hosts` in fakePorts' options). */
  readonly hostRuntimes: ReadonlyMap<string, FakeContainerRuntime>;
  /** The fake engine of a host named in `hosts`. */
  runtimes(host: string): FakeContainerRuntime | undefined;
  /** Each host's connection as it was opened and closed, in order: "open big", "close big". */
  readonly hostConnections: readonly string[];
  readonly workspaces: FakeWorkspaceStore;
  /** The workspace transport of each host other than the local one, by host name, once a service asked for it. */
  readonly transports: ReadonlyMap<string, FakeWorkspaceTransport>;
  readonly locks: FakeInstanceLocks;
  readonly eventStore: FakeEventStore;
  readonly coordinatorLock: FakeCoordinatorLock;
  /** What services take as `ports`: every fake above, and the forge when one is given. */
  readonly overrides: PortOverrides;
}

/**
 * In-memory replacements for the ports of services/project.ts, shared by
 * every service call a test makes (so a warm and a down see one engine).
 */
export function fakePorts(options: { forge?: Forge; hosts?: readonly string[] } = {}): FakePorts {
  const runtime = new FakeContainerRuntime();
  // A fake engine per named host; a configured host not named here has none (opening it fails as an unreachable one would).
  const hostRuntimes = new Map((options.hosts ?? []).map((name) => [name, new FakeContainerRuntime()] as const));
  const workspaces = new FakeWorkspaceStore();
  // One per host for the test's life: a second warm finds the mirror the first one filled, as on a real host.
  const transports = new Map<string, FakeWorkspaceTransport>();
  const locks = new FakeInstanceLocks();
  const eventStore = new FakeEventStore();
  const coordinatorLock = new FakeCoordinatorLock();
  const forge = options.forge;
  const hostConnections: string[] = [];
  const overrides: PortOverrides = {
    host: () => fakeHost(),
    runtime: () => runtime,
    hostRuntime: (host) => {
      const found = hostRuntimes.get(host.name);
      if (found === undefined) throw new ExternalError(`no engine answers for host ${host.name} (no fake runtime was given for it)`);
      hostConnections.push(`open ${host.name}`);
      return {
        runtime: found,
        close: () => {
          hostConnections.push(`close ${host.name}`);
          return Promise.resolve();
        },
      };
    },
    workspaces: () => workspaces,
    transport: (project, host) => {
      let transport = transports.get(host.name);
      if (transport === undefined) {
        transport = new FakeWorkspaceTransport(host.name, project.projectId);
        transports.set(host.name, transport);
      }
      return transport;
    },
    locks: () => locks,
    eventStore: () => eventStore,
    coordinatorLock: () => coordinatorLock,
    ...(forge === undefined ? {} : { forge: () => forge }),
  };
  return { runtime, hostRuntimes, runtimes: (host) => hostRuntimes.get(host), hostConnections, workspaces, transports, locks, eventStore, coordinatorLock, overrides };
}
