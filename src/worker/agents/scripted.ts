import { randomUUID } from "node:crypto";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { ScriptedEvent } from "../../core/agents/presets/scripted.ts";
import { reportBlocked } from "./blocked.ts";
import { Git } from "./git.ts";
import { Inbox } from "./inbox.ts";
import { instructionsIn, type Instruction, type ParsedInstruction } from "./instructions.ts";
import { rebaseKeepingOurs } from "./rebase.ts";
import { sayToCoordinator } from "./say.ts";

/**
 * The deterministic scripted agent: a real process that follows the
 * `cspace-script:` lines of its prompt (see ./instructions.ts), for tests,
 * benchmarks and the demo. `node /opt/cspace/worker.cjs scripted` runs it:
 *
 *   process.exit(await runScriptedAgent(process.argv.slice(3), process.stdin, process.stdout, process.env));
 *
 * argv: `--remote <name>` (the remote `rebase` fetches from; else
 * CSPACE_SCRIPT_REMOTE, else origin), `--workspace <dir>` (else the current
 * directory). env: CSPACE_INSTANCE (names the default commit's file),
 * CSPACE_INSTANCE_DIR and CSPACE_CLI (for `blocked` and `say`, see
 * ./blocked.ts and ./say.ts).
 * stdin and stdout: the JSON lines of src/core/agents/presets/scripted.ts.
 *
 * Resolves with the exit code once the last line is written; the caller
 * exits with it (stdin may still be open). `crash` never resolves: the
 * process kills itself with SIGKILL, as a crashing agent would die.
 */
export async function runScriptedAgent(
  argv: readonly string[],
  stdin: NodeJS.ReadableStream,
  stdout: NodeJS.WritableStream,
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const emit = (event: ScriptedEvent) =>
    new Promise<void>((resolve) => {
      stdout.write(`${JSON.stringify(event)}\n`, () => {
        resolve();
      });
    });
  const options = parseArgs(argv, env);
  if (typeof options === "string") {
    await emit({ type: "error", text: options });
    return 2;
  }
  const inbox = new Inbox(stdin, (problem) => void emit({ type: "error", text: problem }));
  try {
    const agent = new ScriptedRun(options, env, emit, inbox);
    return await agent.run();
  } finally {
    inbox.stop();
  }
}

interface Options {
  readonly remote: string;
  readonly workspace: string;
}

function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): Options | string {
  let remote = env.CSPACE_SCRIPT_REMOTE === undefined || env.CSPACE_SCRIPT_REMOTE === "" ? "origin" : env.CSPACE_SCRIPT_REMOTE;
  let workspace = process.cwd();
  for (let index = 0; index < argv.length; index += 2) {
    const [flag, value] = [argv[index], argv[index + 1]];
    if (value === undefined || value === "") return `scripted agent: ${flag ?? ""} needs a value`;
    if (flag === "--remote") remote = value;
    else if (flag === "--workspace") workspace = path.resolve(value);
    else return `scripted agent: unknown argument ${JSON.stringify(flag)} (expected --remote <name> or --workspace <dir>)`;
  }
  return { remote, workspace };
}

/** How the run ends, once decided. */
interface Ending {
  readonly code: number;
  readonly summary: string;
}

class ScriptedRun {
  private readonly sessionId = `scripted-${randomUUID()}`;
  private readonly git: Git;
  /** Turns ended so far: each wait for a message ends one. */
  private turnsEnded = 0;

  private readonly options: Options;
  private readonly env: Readonly<Record<string, string | undefined>>;
  private readonly emit: (event: ScriptedEvent) => Promise<void>;
  private readonly inbox: Inbox;

  constructor(options: Options, env: Readonly<Record<string, string | undefined>>, emit: (event: ScriptedEvent) => Promise<void>, inbox: Inbox) {
    this.options = options;
    this.env = env;
    this.emit = emit;
    this.inbox = inbox;
    this.git = new Git(options.workspace, env);
  }

  async run(): Promise<number> {
    const first = await this.inbox.next();
    if (first === null) {
      await this.emit({ type: "error", text: "stdin ended before the prompt line" });
      return 2;
    }
    await this.emit({ type: "init", session_id: this.sessionId });
    const ending = (await this.follow(first.text, true)) ?? (await this.drainMessages()) ?? { code: 0, summary: "done" };
    await this.emit({
      type: "result",
      session_id: this.sessionId,
      num_turns: this.turnsEnded + 1,
      total_cost_usd: 0,
      result: ending.summary,
      is_error: ending.code !== 0,
    });
    return ending.code;
  }

  /** Follows the instructions of a prompt or message; an Ending when one of them ends the run. */
  private async follow(text: string, isPrompt: boolean): Promise<Ending | null> {
    const parsed = instructionsIn(text);
    const wrong = parsed.find((line): line is Extract<ParsedInstruction, { ok: false }> => !line.ok);
    if (wrong !== undefined) {
      await this.emit({ type: "error", text: `${wrong.error} (in "cspace-script: ${wrong.source}")` });
      return { code: 2, summary: `bad instruction: ${wrong.source}` };
    }
    const list = parsed.flatMap((line) => (line.ok ? [line.instruction] : []));
    if (isPrompt && list.length === 0) list.push(this.defaultCommit());
    await this.emit({ type: "text", text: `following ${list.length} instruction${list.length === 1 ? "" : "s"}` });
    for (const [index, instruction] of list.entries()) {
      const ending = await this.perform(instruction);
      if (ending !== null) return ending;
      // Messages that came in meanwhile are taken now, unless a wait-message comes next: it takes the first.
      const drained = list[index + 1]?.verb === "wait-message" ? null : await this.drainMessages();
      if (drained !== null) return drained;
    }
    return null;
  }

  private defaultCommit(): Instruction {
    const instance = this.env.CSPACE_INSTANCE === undefined || this.env.CSPACE_INSTANCE === "" ? "scripted-agent" : this.env.CSPACE_INSTANCE;
    return { verb: "commit", path: `${instance.replace(/[^A-Za-z0-9._-]/g, "-")}.txt`, text: `${instance}: done by the scripted agent` };
  }

  /** Messages that arrived while the agent was busy, in order. */
  private async drainMessages(): Promise<Ending | null> {
    for (let line = this.inbox.take(); line !== null; line = this.inbox.take()) {
      const ending = await this.receive(line.text);
      if (ending !== null) return ending;
    }
    return null;
  }

  private async receive(text: string): Promise<Ending | null> {
    await this.emit({ type: "message", text });
    appendFileSync(path.join(this.options.workspace, ".cspace-messages.log"), `${text}\n`);
    return this.follow(text, false);
  }

  private async perform(instruction: Instruction): Promise<Ending | null> {
    await this.emit({ type: "step", text: describe(instruction) });
    try {
      return await this.act(instruction);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.emit({ type: "error", text: message });
      return { code: 1, summary: `${instruction.verb} failed: ${message}` };
    }
  }

  private async act(instruction: Instruction): Promise<Ending | null> {
    switch (instruction.verb) {
      case "commit":
        await this.commit(instruction.path, instruction.text);
        return null;
      case "sleep":
        await new Promise((resolve) => setTimeout(resolve, instruction.seconds * 1000));
        return null;
      case "wait-message":
        return this.waitMessage();
      case "fail":
        return { code: instruction.code, summary: `failed on purpose with exit code ${instruction.code}` };
      case "crash":
        // Nothing after this line is written: a crashed agent says nothing more.
        process.kill(process.pid, "SIGKILL");
        return new Promise<never>(() => undefined);
      case "blocked": {
        const how = await reportBlocked(instruction.reason, this.options.workspace, this.env);
        await this.emit({ type: "text", text: `blocked: ${how}` });
        return { code: 0, summary: `blocked: ${instruction.reason}` };
      }
      case "say": {
        const how = await sayToCoordinator(instruction.text, this.options.workspace, this.env);
        await this.emit({ type: "text", text: `said: ${how} ${JSON.stringify(instruction.text)}` });
        return null;
      }
      case "rebase": {
        const { head } = await rebaseKeepingOurs(this.git, this.options.remote, instruction.branch);
        await this.emit({ type: "text", text: `rebased onto ${this.options.remote}/${instruction.branch}: ${head}` });
        return null;
      }
    }
  }

  private async waitMessage(): Promise<Ending | null> {
    if (this.inbox.pending === 0 && !this.inbox.closed) {
      this.turnsEnded += 1;
      await this.emit({ type: "idle", num_turns: this.turnsEnded });
    }
    const line = await this.inbox.next();
    if (line === null) {
      await this.emit({ type: "text", text: "stdin ended: no message will come; going on" });
      return null;
    }
    return this.receive(line.text);
  }

  private async commit(file: string, text: string): Promise<void> {
    const target = path.resolve(this.options.workspace, file);
    const relative = path.relative(this.options.workspace, target);
    if (relative === "" || relative.startsWith("..") || path.isAbsolute(relative)) throw new Error(`${file} is outside the workspace`);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, `${text}\n`);
    await this.git.ok(["add", "--", relative]);
    // --allow-empty: the same text twice is still the commit the script asked for.
    await this.git.ok([...(await this.git.identityArgs()), "commit", "--quiet", "--allow-empty", "-m", `scripted: ${relative}`]);
    const sha = (await this.git.ok(["rev-parse", "HEAD"])).trim();
    await this.emit({ type: "commit", sha, path: relative });
  }
}

function describe(instruction: Instruction): string {
  switch (instruction.verb) {
    case "commit":
      return `commit ${instruction.path} ${instruction.text}`.trim();
    case "sleep":
      return `sleep ${instruction.seconds}`;
    case "fail":
      return `fail ${instruction.code}`;
    case "blocked":
      return `blocked ${instruction.reason}`;
    case "say":
      return `say ${instruction.text}`;
    case "rebase":
      return `rebase ${instruction.branch}`;
    case "wait-message":
    case "crash":
      return instruction.verb;
  }
}
