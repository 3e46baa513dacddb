import { describe, expect, it } from "vitest";
import { CspaceError, ExternalError, InternalError, UserError } from "./errors.ts";
import type * as Errors from "./errors.ts";

/** Another copy of this module, as the split build's files are for bin's fast path: classes of the same names, made apart. */
async function anotherCopy(): Promise<typeof Errors> {
  // A query makes the module loader load the file again as a module of its own.
  const specifier: string = "./errors.ts?another-copy";
  return (await import(/* @vite-ignore */ specifier)) as typeof Errors;
}

class HeadMoved extends ExternalError {
  override readonly name: string = "HeadMoved";
}

describe("cspace's errors across copies of their module", () => {
  it("are told apart by kind whichever copy made them", async () => {
    const other = await anotherCopy();
    expect(other.UserError).not.toBe(UserError);
    const user = new other.UserError("bad flag", { hint: "use --x" });
    expect(user instanceof CspaceError).toBe(true);
    expect(user instanceof UserError).toBe(true);
    expect(user instanceof ExternalError).toBe(false);
    expect(new other.ExternalError("no engine") instanceof ExternalError).toBe(true);
    expect(new other.InternalError("bug") instanceof InternalError).toBe(true);
    expect(new other.InternalError("bug") instanceof UserError).toBe(false);
  });

  it("keep ordinary instanceof for the classes derived from them, and for everything else", async () => {
    const other = await anotherCopy();
    expect(new other.ExternalError("no engine") instanceof HeadMoved).toBe(false);
    expect(new HeadMoved("moved") instanceof HeadMoved).toBe(true);
    expect(new HeadMoved("moved") instanceof ExternalError).toBe(true);
    expect(new Error("plain") instanceof CspaceError).toBe(false);
    expect(Object.assign(new Error("looks like one"), { kind: "user" }) instanceof UserError).toBe(false);
    expect((null as unknown) instanceof Object).toBe(false);
  });
});
