import { describe, expect, it } from "vitest";
import { checkHostKey, fingerprint, keyType } from "./known-hosts.ts";

// Two ed25519 keys and hashed lines made by OpenSSH's own tools (ssh-keygen -t ed25519; ssh-keygen -H -f),
// so the hashing is checked against what `ssh` writes, not against this module's idea of it.
const KEY1 = "AAAAC3NzaC1lZDI1NTE5AAAAIEjWvKSttEUzU7Pw53e5528pnbbK3vyflSNprby4u7IY";
const KEY2 = "AAAAC3NzaC1lZDI1NTE5AAAAIAFfUygrr39Xtj64TNjfS7pRuXYtuvaugdfMsb0+7C5k";
const KEY1_FINGERPRINT = "SHA256:gyyNeC9wHKq8k3/gl0qNUiX7tgSOxxXpo5dQz1eI+e4";
/** `[10.0.0.5]:2222` and `build-1.internal` with KEY1, hashed by ssh-keygen -H. */
const HASHED = [
  `|1|rJtMFQSccS/lbb/ntt+sAF8k4NA=|X/QIUuWj5Y2ufJtKmLuYy6UhpPg= ssh-ed25519 ${KEY1}`,
  `|1|dtx/INeiWUWyM+D1xBfIIcUi4l4=|msz3l75ZXQE7BuMggPgVBwyk2YM= ssh-ed25519 ${KEY1}`,
].join("\n");

const blob = (key: string): Buffer => Buffer.from(key, "base64");

describe("checkHostKey", () => {
  it("knows a host by a plain line, and says a different key for it changed", () => {
    const file = `# comment\n\nbuild-1.internal,10.0.0.9 ssh-ed25519 ${KEY1} root@build-1\n`;
    expect(checkHostKey(file, "build-1.internal", 22, blob(KEY1))).toEqual({ kind: "known" });
    expect(checkHostKey(file, "10.0.0.9", 22, blob(KEY1))).toEqual({ kind: "known" });
    expect(checkHostKey(file, "BUILD-1.internal", 22, blob(KEY1))).toEqual({ kind: "known" });
    expect(checkHostKey(file, "build-1.internal", 22, blob(KEY2))).toEqual({ kind: "changed", knownTypes: ["ssh-ed25519"] });
    expect(checkHostKey(file, "build-2.internal", 22, blob(KEY1))).toEqual({ kind: "unknown" });
  });

  it("reads hashed lines as ssh-keygen -H writes them, with the [host]:port form for other ports", () => {
    expect(checkHostKey(HASHED, "build-1.internal", 22, blob(KEY1))).toEqual({ kind: "known" });
    expect(checkHostKey(HASHED, "10.0.0.5", 2222, blob(KEY1))).toEqual({ kind: "known" });
    expect(checkHostKey(HASHED, "10.0.0.5", 2222, blob(KEY2))).toEqual({ kind: "changed", knownTypes: ["ssh-ed25519"] });
    // The same address on port 22 is another host to ssh.
    expect(checkHostKey(HASHED, "10.0.0.5", 22, blob(KEY1))).toEqual({ kind: "unknown" });
    expect(checkHostKey(HASHED, "build-1.internal", 2222, blob(KEY1))).toEqual({ kind: "unknown" });
  });

  it("matches wildcards, lets a negated pattern exclude a host, and refuses a revoked key whoever offers it", () => {
    const file = [`*.internal,!db.internal ssh-ed25519 ${KEY1}`, `[gate-?.example]:2200 ssh-ed25519 ${KEY2}`].join("\n");
    expect(checkHostKey(file, "build-7.internal", 22, blob(KEY1))).toEqual({ kind: "known" });
    expect(checkHostKey(file, "db.internal", 22, blob(KEY1))).toEqual({ kind: "unknown" });
    expect(checkHostKey(file, "gate-3.example", 2200, blob(KEY2))).toEqual({ kind: "known" });
    expect(checkHostKey(file, "gate-33.example", 2200, blob(KEY2))).toEqual({ kind: "unknown" });
    const revoked = `${file}\n@revoked * ssh-ed25519 ${KEY1}`;
    expect(checkHostKey(revoked, "build-7.internal", 22, blob(KEY1))).toEqual({ kind: "revoked" });
  });

  it("never takes a certificate authority's line for the host's own key", () => {
    const file = `@cert-authority *.internal ssh-ed25519 ${KEY1}`;
    expect(checkHostKey(file, "build-1.internal", 22, blob(KEY1))).toEqual({ kind: "unknown" });
  });
});

describe("fingerprint and keyType", () => {
  it("print a key as ssh-keygen -l does", () => {
    expect(fingerprint(blob(KEY1))).toBe(KEY1_FINGERPRINT);
    expect(keyType(blob(KEY1))).toBe("ssh-ed25519");
    expect(keyType(Buffer.from([0, 0]))).toBe("unknown");
  });
});
