import { describe, expect, it } from "vitest";
import { LABELS, WORKER_LAYOUT } from "./labels.ts";
import { outdatedReasons } from "./outdated.ts";

describe("outdatedReasons", () => {
  it("a worker made by this version is not outdated", () => {
    expect(outdatedReasons({ labels: { [LABELS.layout]: WORKER_LAYOUT }, sharedObjectFiles: 0 })).toEqual([]);
  });

  it("a container without the layout label was made before it: not hardened", () => {
    expect(outdatedReasons({ labels: {}, sharedObjectFiles: 0 })).toEqual([expect.stringContaining("its container is of layout 1, not 2: made without the worker hardening")]);
  });

  it("a checkout sharing object files with the store is named with their count, whatever its label says", () => {
    expect(outdatedReasons({ labels: { [LABELS.layout]: WORKER_LAYOUT }, sharedObjectFiles: 3 })).toEqual([expect.stringContaining("shares 3 object files with the project's store")]);
  });

  it("a label that is no number counts as outdated", () => {
    expect(outdatedReasons({ labels: { [LABELS.layout]: "x" }, sharedObjectFiles: 1 })).toHaveLength(2);
  });
});
