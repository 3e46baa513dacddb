import { describe, expect, it } from "vitest";
import { presetNamed } from "../agents/presets/index.ts";
import type { AgentPreset } from "../agents/preset.ts";
import { agentCheck, agentKeyCheck, refusalOf, repositoryCheck, verifyCheck, verifyExecutables, type ImageObservation } from "./preflight.ts";

function preset(name: string): AgentPreset {
  const found = presetNamed(name);
  if (found === null) throw new Error(`no preset ${name}`);
  return found;
}

function image(found: readonly string[], options: { npm?: boolean; env?: readonly string[] } = {}): ImageObservation {
  return { image: "cspace-image:abc", found: new Set(found), npm: options.npm ?? false, credentialsSet: new Set(options.env ?? []) };
}

describe("verifyExecutables", () => {
  it.each([
    ["npm test", ["npm"]],
    ["cd app && npm test", ["npm"]],
    ["! grep -qs first-run draft.txt", ["grep"]],
    ["test -s greeting.txt || test ! -e name.txt", []],
    ["if [ -f hang.txt ]; then sleep 100000; fi", ["sleep"]],
    ["CI=1 FOO='a b' npx vitest run 2>&1 | tee out.log", ["npx", "tee"]],
    ["sh check.sh", ["sh"]],
    ["./scripts/check.sh && /usr/bin/make -C src", ["/usr/bin/make"]],
    ["$TOOL run && `which x` y", []],
    ["env -i PATH=/bin cargo test; exec pytest -q", ["cargo", "pytest"]],
    ["for f in a b; do node $f; done", ["node"]],
    ["echo 'npm && yarn' > log.txt", []],
  ])("%s needs %j", (command, expected) => {
    expect(verifyExecutables([command])).toEqual(expected);
  });
});

describe("the preflight's findings", () => {
  it("fails outside a git repository and in one with no commits, saying what to run", () => {
    expect(repositoryCheck("/p", { kind: "none" })).toMatchObject({ status: "fail", required: true });
    expect(repositoryCheck("/p", { kind: "none" }).detail).toContain("/p is not in a git repository");
    expect(repositoryCheck("/p", { kind: "none" }).hint).toContain("git init");
    expect(repositoryCheck("/p", { kind: "no-commits", top: "/p" }).status).toBe("fail");
    expect(repositoryCheck("/p", { kind: "no-commits", top: "/p" }).hint).toContain("git commit");
    expect(repositoryCheck("/p", { kind: "ready", top: "/p" })).toMatchObject({ status: "pass" });
  });

  it("fails the claude preset in an image with neither claude nor npm, naming the Dockerfile line; passes when npm can install it", () => {
    const claude = preset("claude");
    const failed = agentCheck({ preset: claude, packageSpec: undefined, image: image(["node"]), lifecycleCommands: false });
    expect(failed.status).toBe("fail");
    expect(failed.detail).toBe(`claude: claude is not on the container user's PATH in cspace-image:abc, and the image has no npm to install ${claude.npmPackage ?? ""} with`);
    expect(failed.hint).toContain(`RUN npm install -g ${claude.npmPackage ?? ""}`);
    expect(agentCheck({ preset: claude, packageSpec: undefined, image: image([], { npm: true }), lifecycleCommands: false }).status).toBe("pass");
    expect(agentCheck({ preset: claude, packageSpec: undefined, image: image(["claude"]), lifecycleCommands: false }).status).toBe("pass");
    // A postCreateCommand may install it: said, not refused.
    expect(agentCheck({ preset: claude, packageSpec: undefined, image: image([]), lifecycleCommands: true }).status).toBe("warn");
  });

  it("fails verify.all \"npm test\" in an image without npm", () => {
    const result = verifyCheck({ commands: ["npm test"], image: image(["node", "sh"]), lifecycleCommands: false });
    expect(result).toMatchObject({ status: "fail", detail: '"npm test" needs npm, not on the container user\'s PATH in cspace-image:abc' });
    expect(verifyCheck({ commands: ["npm test"], image: image(["npm"]), lifecycleCommands: false }).status).toBe("pass");
    expect(verifyCheck({ commands: [], image: image([]), lifecycleCommands: false }).status).toBe("pass");
  });

  it("says when the image was not looked into: a caveat before it is made, a skip when the engine is down", () => {
    expect(verifyCheck({ commands: ["npm test"], image: { because: "not made yet", caveat: true }, lifecycleCommands: false }).status).toBe("warn");
    expect(agentCheck({ preset: preset("claude"), packageSpec: undefined, image: { because: "the Docker engine is unreachable" }, lifecycleCommands: false }).status).toBe("skip");
  });

  it("finds the agent's key passed by name, and warns with the fix when it is only in the shell", () => {
    const claude = preset("claude");
    const none = { agentEnv: {}, containerEnv: {}, passEnv: [], hostEnv: {}, image: null };
    expect(agentKeyCheck(claude, { ...none, passEnv: ["ANTHROPIC_API_KEY"], hostEnv: { ANTHROPIC_API_KEY: "k" } })).toMatchObject({ status: "pass" });
    const shell = agentKeyCheck(claude, { ...none, hostEnv: { ANTHROPIC_API_KEY: "k" } });
    expect(shell).toMatchObject({ status: "warn", required: false, detail: "ANTHROPIC_API_KEY is set in this shell but not passed to the claude agent" });
    expect(shell.hint).toContain('"passEnv": ["ANTHROPIC_API_KEY"]');
    expect(agentKeyCheck(claude, { ...none, passEnv: ["ANTHROPIC_API_KEY"] }).detail).toBe("agent.passEnv names ANTHROPIC_API_KEY, but it is not set in this shell");
    expect(agentKeyCheck(claude, { ...none, image: new Set(["CLAUDE_CODE_OAUTH_TOKEN"]) })).toMatchObject({ status: "pass" });
    expect(agentKeyCheck(preset("scripted"), none).status).toBe("pass");
  });

  it("refuses a run for each required finding that did not pass, and for nothing else", () => {
    const fail = repositoryCheck("/p", { kind: "none" });
    const warn = agentKeyCheck(preset("claude"), { agentEnv: {}, containerEnv: {}, passEnv: [], hostEnv: {}, image: null });
    expect(refusalOf([warn, repositoryCheck("/p", { kind: "ready", top: "/p" })])).toBeNull();
    const refusal = refusalOf([fail, warn]);
    expect(refusal?.message).toContain("Git repository: /p is not in a git repository");
    expect(refusal?.message).not.toContain("Agent's key");
  });
});
