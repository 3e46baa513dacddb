/**
 * The scripted agent's instruction lines: `cspace-script: <verb> <args>`, one
 * per line, anywhere in a prompt or message. A line may be indented, quoted
 * or listed ("> ", "- ", "* ") as an issue body or a template renders it;
 * every other line is ignored. A malformed instruction is an error, not
 * ignored text: a test that misspells one should fail, not pass quietly.
 */
export type Instruction =
  | { readonly verb: "commit"; readonly path: string; readonly text: string }
  | { readonly verb: "sleep"; readonly seconds: number }
  | { readonly verb: "wait-message" }
  | { readonly verb: "fail"; readonly code: number }
  | { readonly verb: "crash" }
  | { readonly verb: "blocked"; readonly reason: string }
  | { readonly verb: "say"; readonly text: string }
  | { readonly verb: "rebase"; readonly branch: string };

export type ParsedInstruction = { readonly ok: true; readonly instruction: Instruction; readonly source: string } | { readonly ok: false; readonly error: string; readonly source: string };

const MARKER = /^[\s>*-]*cspace-script:[ \t]*(.*)$/;

/** The instruction lines of a text, in order, each parsed or with the reason it cannot be. */
export function instructionsIn(text: string): ParsedInstruction[] {
  return text.split(/\r?\n/).flatMap((line) => {
    const match = MARKER.exec(line);
    if (match === null) return [];
    const source = (match[1] ?? "").trim();
    const parsed = parseInstruction(source);
    return [typeof parsed === "string" ? { ok: false as const, error: parsed, source } : { ok: true as const, instruction: parsed, source }];
  });
}

/** One instruction, or what is wrong with it. */
export function parseInstruction(source: string): Instruction | string {
  const space = source.search(/\s/);
  const verb = space === -1 ? source : source.slice(0, space);
  const rest = space === -1 ? "" : source.slice(space).trim();
  switch (verb) {
    case "commit": {
      const gap = rest.search(/\s/);
      const path = gap === -1 ? rest : rest.slice(0, gap);
      if (path === "") return "commit needs a path: cspace-script: commit <path> <text>";
      return { verb, path, text: gap === -1 ? "" : rest.slice(gap).trim() };
    }
    case "sleep": {
      const seconds = Number(rest);
      if (rest === "" || !Number.isFinite(seconds) || seconds < 0) return `sleep needs a number of seconds ≥ 0, got ${JSON.stringify(rest)}`;
      return { verb, seconds };
    }
    case "wait-message":
    case "crash":
      return rest === "" ? { verb } : `${verb} takes no argument, got ${JSON.stringify(rest)}`;
    case "fail": {
      const code = Number(rest);
      if (!/^[0-9]+$/.test(rest) || code > 255) return `fail needs an exit code from 0 to 255, got ${JSON.stringify(rest)}`;
      return { verb, code };
    }
    case "blocked":
      return rest === "" ? "blocked needs a reason: cspace-script: blocked <reason>" : { verb, reason: rest };
    case "say":
      if (rest === "") return "say needs a text: cspace-script: say <text>";
      // `cspace send _coordinator -` reads the message from stdin, which the agent does not give it.
      if (rest === "-") return 'say needs a text other than "-" (cspace send would read it from stdin)';
      return { verb, text: rest };
    case "rebase":
      return /^\S+$/.test(rest) ? { verb, branch: rest } : `rebase needs one branch name, got ${JSON.stringify(rest)}`;
    default:
      return `unknown instruction ${JSON.stringify(verb)}: expected commit, sleep, wait-message, fail, crash, blocked, say or rebase`;
  }
}
