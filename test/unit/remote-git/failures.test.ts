import { describe, expect, it } from "vitest";
import { remoteFailure, scrub } from "../../../src/adapters/git/remote/failures.ts";
import { ExternalError } from "../../../src/core/errors.ts";
import { ForgeUnauthorizedError, ForgeUnavailableError } from "../../../src/core/forge/errors.ts";

describe("remoteFailure", () => {
  it.each([
    ["fatal: could not read Username for 'https://github.com': terminal prompts disabled", ForgeUnauthorizedError, /refused the token \(HTTP 401\)/],
    ["remote: Invalid username or token.\nfatal: Authentication failed for 'https://github.com/o/r.git/'", ForgeUnauthorizedError, /HTTP 401/],
    ["remote: Permission to o/r.git denied to bot.\nfatal: unable to access 'https://github.com/o/r.git/': The requested URL returned error: 403", ForgeUnauthorizedError, /HTTP 403/],
    ["fatal: unable to access 'https://github.com/o/r.git/': Could not resolve host: github.com", ForgeUnavailableError, /Could not resolve host/],
    ["fatal: unable to access 'https://h/o/r.git/': The requested URL returned error: 502", ForgeUnavailableError, /502/],
    ["remote: Repository not found.\nfatal: repository 'https://github.com/o/r.git/' not found", ExternalError, /not found/],
    ["fatal: '/srv/gone.git' does not appear to be a git repository", ExternalError, /does not appear/],
  ])("reads %j as a typed error", (stderr, type, message) => {
    const error = remoteFailure("push issue-1", "GitHub (o/r)", stderr, []);
    expect(error).toBeInstanceOf(type);
    expect(error.message).toMatch(message);
    expect(error.message).toContain("push issue-1");
  });

  it("scrubs every form of a secret from what git printed", () => {
    const error = remoteFailure("fetch main", "r", "fatal: header Authorization: Basic c2VjcmV0 refused for s3cr3t", ["s3cr3t", "c2VjcmV0"]);
    expect(error.message).not.toMatch(/s3cr3t|c2VjcmV0/);
    expect(scrub("a s3cr3t b s3cr3t", ["s3cr3t", ""])).toBe("a *** b ***");
  });
});
