import { FakeEventStore } from "../fakes/event-store.ts";
import { eventStoreContract } from "./event-store-contract.ts";

eventStoreContract("in-memory fake", () => {
  const store = new FakeEventStore();
  return Promise.resolve({
    store,
    another: () => Promise.resolve(new FakeEventStore({ log: store.log })),
    teardown: () => Promise.resolve(),
  });
});
