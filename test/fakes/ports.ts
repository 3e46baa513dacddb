import type { Forge } from "../../src/core/forge/port.ts";
import type { PortOverrides } from "../../src/services/project.ts";
import { FakeContainerRuntime } from "./container-runtime.ts";
import { fakeHost } from "./host.ts";
import { FakeCoordinatorLock, FakeEventStore } from "./event-store.ts";
import { FakeInstanceLocks } from "./instance-locks.ts";
import { FakeWorkspaceStore } from "./workspace-store.ts";

export interface FakePorts {
  readonly runtime: FakeContainerRuntime;
  readonly workspaces: FakeWorkspaceStore;
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
export function fakePorts(options: { forge?: Forge } = {}): FakePorts {
  const runtime = new FakeContainerRuntime();
  const workspaces = new FakeWorkspaceStore();
  const locks = new FakeInstanceLocks();
  const eventStore = new FakeEventStore();
  const coordinatorLock = new FakeCoordinatorLock();
  const forge = options.forge;
  const overrides: PortOverrides = {
    host: () => fakeHost(),
    runtime: () => runtime,
    workspaces: () => workspaces,
    locks: () => locks,
    eventStore: () => eventStore,
    coordinatorLock: () => coordinatorLock,
    ...(forge === undefined ? {} : { forge: () => forge }),
  };
  return { runtime, workspaces, locks, eventStore, coordinatorLock, overrides };
}
