import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { claudePreset } from "../../src/core/agents/presets/claude.ts";
import { useTempDirs } from "../support/temp-dirs.ts";
import { drive, startInput } from "../unit/agents/drive.ts";

/**
 * The opt-in lane: the claude preset against the real Claude Code CLI, on the
 * host, in a scratch repository. It needs `claude` on PATH and an API key,
 * costs real tokens, and is never part of `npm test` or CI (no network there):
 *   CSPACE_REAL_AGENTS=1 npm run test:real-agents
 * The stand-in in test/fixtures/agents/claude is what CI holds the preset to;
 * this lane checks the stand-in still speaks what the real CLI speaks.
 */
const tempDir = useTempDirs("real-claude");
const git = (cwd: string, ...args: string[]): string => execFileSync("git", args, { cwd, encoding: "utf8" }).trim();

describe("the claude preset against the real claude CLI", () => {
  it("has what it needs: claude on PATH and a key", () => {
    const version = (() => {
      try {
        return execFileSync("claude", ["--version"], { encoding: "utf8" }).trim();
      } catch {
        return null;
      }
    })();
    expect(version, "install Claude Code (npm install -g @anthropic-ai/claude-code) to run this lane").not.toBeNull();
    expect(process.env.ANTHROPIC_API_KEY ?? process.env.CLAUDE_CODE_OAUTH_TOKEN, "export ANTHROPIC_API_KEY to run this lane").toBeDefined();
  });

  it("starts a session, takes a follow-up as a new user turn, commits, and reports session, turns and cost", async () => {
    const dir = await tempDir();
    git(dir, "init", "--quiet", "--initial-branch=issue-1");
    git(dir, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "--allow-empty", "-m", "start");
    const driven = await drive(
      claudePreset,
      startInput({ prompt: "Create a file hello.txt containing the word hi, then commit it with git (message: hello). Do nothing else." }),
      { cwd: dir, env: process.env, messages: ["Now reply with the single word: done."] },
    );
    expect(driven.isError, driven.lines.join("\n")).toBe(false);
    expect(driven.sessionId).toMatch(/\S/);
    expect(driven.turns).toBeGreaterThanOrEqual(2);
    expect(driven.costUsd).toBeGreaterThan(0);
    expect(driven.finalText?.toLowerCase()).toContain("done");
    expect(git(dir, "log", "-1", "--format=%s")).toBe("hello");
  }, 600_000);
});
