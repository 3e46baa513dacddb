import type { AgentPreset } from "../agents/preset.ts";
import { UserError } from "../errors.ts";
import type { CheckResult } from "./checks.ts";

/**
 * What a run needs before it starts, checked by `cspace doctor` and, the
 * same way, by `cspace coordinate` before it makes anything (issue 15: doctor
 * said "Ready" where coordinate then failed in seconds). Pure: the service
 * looks (a git repository, one short-lived container of the worker image)
 * and these functions turn what it saw into findings people can act on.
 */

/** Whether the project is a git repository with a commit, as `workTreeState` sees it. */
export type RepositoryState = { readonly kind: "none" } | { readonly kind: "no-commits"; readonly top: string } | { readonly kind: "ready"; readonly top: string };

export function repositoryCheck(projectDir: string, state: RepositoryState): CheckResult {
  const base = { id: "repository", title: "Git repository", required: true } as const;
  switch (state.kind) {
    case "none":
      return {
        ...base,
        status: "fail",
        detail: `${projectDir} is not in a git repository: every worker's checkout is made from the project's repository`,
        hint: 'Run cspace in your project\'s git repository (or --cwd <dir>), or make one: `git init && git add -A && git commit -m "Initial commit"`.',
      };
    case "no-commits":
      return {
        ...base,
        status: "fail",
        detail: `the git repository at ${state.top} has no commits yet, so there is no branch to start workers from`,
        hint: 'Commit first: `git add -A && git commit -m "Initial commit"`.',
      };
    case "ready":
      return { ...base, status: "pass", detail: state.top };
  }
}

/** What one short-lived container of the worker image answered. */
export interface ImageObservation {
  /** The image reference the workers would run. */
  readonly image: string;
  /** Executables asked about that are on the container user's PATH. */
  readonly found: ReadonlySet<string>;
  /** Whether root has npm there, to install an agent CLI the image lacks (services/workers/agent-executable.ts). */
  readonly npm: boolean;
  /** Credential variables the container's own environment sets (the image's ENV, containerEnv), not empty. */
  readonly credentialsSet: ReadonlySet<string>;
}

/** Why the image was not looked into, said as "not checked: …". */
export interface ImageUnchecked {
  readonly because: string;
  readonly hint?: string | undefined;
  /** A caveat (`warn`: the image is not built yet, and coordinate checks it before it starts), not a check that could not run (`skip`). */
  readonly caveat?: boolean | undefined;
}

export interface AgentCheckInput {
  readonly preset: AgentPreset;
  /** `agent.package`, else the preset's pinned package. */
  readonly packageSpec: string | undefined;
  readonly image: ImageObservation | ImageUnchecked;
  /** The devcontainer runs lifecycle commands (postCreate/postStart), which may install what the bare image lacks. */
  readonly lifecycleCommands: boolean;
}

export function agentCheck(input: AgentCheckInput): CheckResult {
  const { preset, image } = input;
  const base = { id: "agent", title: "Agent", required: true } as const;
  if (!("found" in image)) return unchecked(base, image);
  if (image.found.has(preset.executable)) return { ...base, status: "pass", detail: `${preset.name}: ${preset.executable} is in ${image.image}` };
  const spec = input.packageSpec ?? preset.npmPackage;
  const missing = `${preset.name}: ${preset.executable} is not on the container user's PATH in ${image.image}`;
  if (spec !== null && image.npm) return { ...base, status: "pass", detail: `${missing}; the first launch installs ${spec} with the image's npm` };
  const dockerfile = spec === null ? `install ${preset.executable} in the image` : `add \`RUN npm install -g ${spec}\` to the image's Dockerfile`;
  const why = spec === null ? `${missing}, and ${preset.name} is not installed from npm` : `${missing}, and the image has no npm to install ${spec} with`;
  if (input.lifecycleCommands) {
    return { ...base, status: "warn", detail: `${why}; the devcontainer's lifecycle commands may install it`, hint: `If they do not, ${dockerfile}, or pick another agent (agent.preset).` };
  }
  return { ...base, status: "fail", detail: why, hint: `${capitalised(dockerfile)}, or pick an agent the image has (agent.preset, --agent).` };
}

export interface VerifyCheckInput {
  /** verify.all and verify.e2e as configured. */
  readonly commands: readonly string[];
  readonly image: ImageObservation | ImageUnchecked;
  readonly lifecycleCommands: boolean;
}

export function verifyCheck(input: VerifyCheckInput): CheckResult {
  const base = { id: "verify", title: "Verify commands", required: true } as const;
  if (input.commands.length === 0) return { ...base, status: "pass", detail: "no verify command configured (verify.all): pull requests merge unverified" };
  const needed = verifyExecutables(input.commands);
  const image = input.image;
  if (!("found" in image)) return unchecked(base, image);
  const missing = needed.filter((word) => !image.found.has(word));
  const shown = input.commands.map((command) => `"${command}"`).join(", ");
  if (missing.length === 0) return { ...base, status: "pass", detail: needed.length === 0 ? `${shown}: nothing to look for in the image` : `${needed.join(", ")} in ${image.image}` };
  const detail = `${shown} needs ${missing.join(", ")}, not on the container user's PATH in ${image.image}`;
  const hint = `Install ${missing.join(" and ")} in the image (its Dockerfile), or change verify.all to a command the image has.`;
  if (input.lifecycleCommands) return { ...base, status: "warn", detail: `${detail}; the devcontainer's lifecycle commands may install it`, hint };
  return { ...base, status: "fail", detail, hint };
}

/** Where a credential variable can come from, by name (values are never looked at beyond "set and not empty"). */
export interface CredentialSources {
  /** `agent.env`. */
  readonly agentEnv: Readonly<Record<string, string>>;
  /** `container.env`, the devcontainer's containerEnv and remoteEnv. */
  readonly containerEnv: Readonly<Record<string, string>>;
  readonly passEnv: readonly string[];
  readonly hostEnv: NodeJS.ProcessEnv;
  /** What the image sets itself; null when the image was not looked into. */
  readonly image: ReadonlySet<string> | null;
}

/**
 * Whether the agent gets the key its CLI reads. A warning, never a failure:
 * a key can come from where cspace cannot see (a login mounted into the
 * container, a cloud role), so a run is not refused for it; but the usual
 * mistake — the key set in the shell and not passed — is said with the fix.
 */
export function agentKeyCheck(preset: AgentPreset, sources: CredentialSources): CheckResult {
  const base = { id: "agent-key", title: "Agent's key", required: false } as const;
  const names = preset.credentialEnv;
  if (names.length === 0) return { ...base, status: "pass", detail: `${preset.name}: no key of cspace's to pass (pass what it needs with agent.passEnv)` };
  const set = (value: string | undefined): boolean => value !== undefined && value !== "";
  for (const name of names) {
    if (sources.passEnv.includes(name) && set(sources.hostEnv[name])) return { ...base, status: "pass", detail: `${name} passed by name from this shell (agent.passEnv)` };
  }
  for (const name of names) {
    if (set(sources.agentEnv[name])) return { ...base, status: "pass", detail: `${name} from agent.env` };
    if (set(sources.containerEnv[name])) return { ...base, status: "pass", detail: `${name} from the container's environment` };
    if (sources.image?.has(name) === true) return { ...base, status: "pass", detail: `${name} set in the image` };
  }
  const passEnvHint = (name: string) => `add "passEnv": ["${name}"] under "agent" in .cspace.json: the variable is passed by name, its value never written to a file`;
  const inShell = names.find((name) => set(sources.hostEnv[name]));
  if (inShell !== undefined) return { ...base, status: "warn", detail: `${inShell} is set in this shell but not passed to the ${preset.name} agent`, hint: `${capitalised(passEnvHint(inShell))}.` };
  const named = names.find((name) => sources.passEnv.includes(name));
  if (named !== undefined) return { ...base, status: "warn", detail: `agent.passEnv names ${named}, but it is not set in this shell`, hint: `export ${named}=… in the shell that runs cspace.` };
  const first = names[0] ?? "";
  return {
    ...base,
    status: "warn",
    detail: `the ${preset.name} agent reads its key from ${names.join(" or ")}, and none reaches it`,
    hint: `export ${first}=… and ${passEnvHint(first)} (skip this if the container has a login of its own).`,
  };
}

/**
 * The findings that stop a run (a required check that did not pass), as
 * one UserError listing each with what to do; null when the run may start.
 */
export function refusalOf(checks: readonly CheckResult[]): UserError | null {
  const failed = checks.filter((check) => check.required && check.status !== "pass" && check.status !== "warn");
  if (failed.length === 0) return null;
  const lines = failed.map((check) => `${check.title}: ${check.detail}${check.hint === undefined ? "" : `\n    ${check.hint}`}`);
  return new UserError(`the run cannot start; nothing was made:\n  ${lines.join("\n  ")}`, { hint: "Fix the above, then run it again; cspace doctor checks the same things." });
}

/** Shell words that run nothing of the image's own, or only say how the next word runs. */
const RESERVED = new Set(["!", "{", "}", "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "time", "exec", "command", "nohup", "env"]);
const BUILTINS = new Set([".", ":", "[", "[[", "alias", "cd", "echo", "eval", "exit", "export", "false", "printf", "pwd", "read", "return", "set", "shift", "source", "test", "trap", "true", "type", "ulimit", "umask", "unset", "wait"]);
/** Constructs whose words up to the next separator are not commands. */
const COMPOUND = new Set(["for", "case", "select", "function"]);
const ASSIGNMENT = /^[A-Za-z_][A-Za-z0-9_]*=/;

/**
 * The executables the verify commands run, as the image must have them: the
 * first word of each simple command (`cd app && npm test` needs npm;
 * `! grep -q x f` needs grep), past assignments, `!`, `exec`/`env`/`nohup`
 * and shell keywords; builtins need nothing. Words the image cannot answer
 * for are left out: a relative path (`./check.sh`: the checkout's), and
 * anything expanded (`$TOOL`, a backquote). The commands run as `sh -c`.
 */
export function verifyExecutables(commands: readonly string[]): string[] {
  const found = new Set<string>();
  for (const command of commands) {
    let atStart = true;
    let skipping = false;
    for (const token of shellTokens(command)) {
      if (token.operator) {
        atStart = true;
        skipping = false;
        continue;
      }
      if (!atStart || skipping || token.redirect === true) continue;
      const word = token.text;
      if (ASSIGNMENT.test(word) || RESERVED.has(word) || (word.startsWith("-") && token.afterPrefix)) continue;
      if (COMPOUND.has(word)) {
        skipping = true;
        continue;
      }
      atStart = false;
      if (BUILTINS.has(word) || token.expanded || (word.includes("/") && !word.startsWith("/"))) continue;
      found.add(word);
    }
  }
  return [...found];
}

interface ShellToken {
  readonly text: string;
  readonly operator: boolean;
  /** Contains an unquoted `$` or a backquote: its value is only known when it runs. */
  readonly expanded: boolean;
  /** Follows `env`/`exec`/`command`/`nohup`, whose options (`env -i`) come before the command. */
  readonly afterPrefix: boolean;
  /** The file of a redirection (`> out.txt`, `2>&1`): not a command. */
  readonly redirect?: boolean;
}

/** Words and the operators between commands (`&&`, `||`, `;`, `|`, `&`, newlines, parentheses), quotes honoured. */
function shellTokens(line: string): ShellToken[] {
  const tokens: ShellToken[] = [];
  let text = "";
  let expanded = false;
  let inWord = false;
  let prefix = false;
  let redirect = false;
  const end = () => {
    if (!inWord) return;
    tokens.push({ text, operator: false, expanded, afterPrefix: prefix, redirect });
    redirect = false;
    prefix = ["env", "exec", "command", "nohup"].includes(text) || (prefix && text.startsWith("-"));
    text = "";
    expanded = false;
    inWord = false;
  };
  for (let i = 0; i < line.length; i++) {
    const c = line[i] ?? "";
    if (c === "'") {
      const close = line.indexOf("'", i + 1);
      const stop = close === -1 ? line.length : close;
      text += line.slice(i + 1, stop);
      inWord = true;
      i = stop;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        if (line[j] === "\\") j++;
        else if (line[j] === "$" || line[j] === "`") expanded = true;
        text += line[j] ?? "";
      }
      inWord = true;
      i = j;
    } else if (c === "\\") {
      text += line[i + 1] ?? "";
      inWord = true;
      i++;
    } else if (c === "#" && !inWord) {
      const newline = line.indexOf("\n", i);
      i = newline === -1 ? line.length : newline - 1;
    } else if (/\s/.test(c) && c !== "\n") {
      end();
    } else if (c === ">" || c === "<") {
      // `2>&1`, `>>log`, `<in`: the fd before and the file after are no command.
      if (/^\d+$/.test(text)) {
        text = "";
        inWord = false;
      }
      end();
      while ("<>&|".includes(line[i + 1] ?? "x")) i++;
      redirect = true;
    } else if ("&|;\n()".includes(c)) {
      end();
      prefix = false;
      tokens.push({ text: c, operator: true, expanded: false, afterPrefix: false });
    } else {
      if (c === "$" || c === "`") expanded = true;
      text += c;
      inWord = true;
    }
  }
  end();
  return tokens;
}

function unchecked(base: Pick<CheckResult, "id" | "title" | "required">, image: ImageUnchecked): CheckResult {
  return { ...base, status: image.caveat === true ? "warn" : "skip", detail: `not checked: ${image.because}`, ...(image.hint === undefined ? {} : { hint: image.hint }) };
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
