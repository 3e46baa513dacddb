import type { AgentPreset, Invocation, LineFacts, StartInput } from "../preset.ts";
import { modelFlag, plainText } from "./json-line.ts";

/**
 * Aider, scripted: `aider --message=<text>` does one thing and exits. It
 * commits its own edits (auto-commits stay on: committing is the agent's
 * contract). A follow-up is a new process with `--restore-chat-history`,
 * which reloads the conversation aider keeps in the workspace's
 * `.aider.chat.history.md`, so the new message continues it.
 * Output is plain text; after each exchange aider prints
 * "Tokens: 2.1k sent, 310 received. Cost: $0.01 message, $0.03 session."
 * and "Commit <sha> <message>" for its commits.
 *
 * `--yes-always`: nobody can answer aider's questions in the container.
 * `--no-gitignore`: aider would otherwise add `.aider*` to the project's
 * .gitignore, a change the issue did not ask for. `--no-pretty`,
 * `--no-stream`: whole lines, without colour codes, for the event log.
 */
export const aiderPreset: AgentPreset = {
  name: "aider",
  executable: "aider",
  // Installed with pip (aider-chat), not npm: the worker image must carry it.
  npmPackage: null,
  resumable: false,
  keepsSession: false,
  credentialEnv: ["ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "DEEPSEEK_API_KEY", "OPENROUTER_API_KEY"],
  // Which API depends on agent.model: name its host in container.network.allow.
  networkHosts: [],
  closeStdinToFinish: false,
  start: (input) => aiderRun(input, input.prompt, false),
  followUp: (text, state) => ({ kind: "invoke", invocation: aiderRun(state.input, text, true) }),
  parseLine: parseAiderLine,
};

function aiderRun(input: StartInput, message: string, continuing: boolean): Invocation {
  return {
    argv: [
      "aider",
      "--yes-always",
      "--no-pretty",
      "--no-stream",
      "--no-check-update",
      "--no-show-model-warnings",
      "--no-gitignore",
      "--no-analytics",
      ...modelFlag(input.model),
      ...(continuing ? ["--restore-chat-history"] : []),
      // `=` keeps a message that starts with "-" from being read as a flag.
      `--message=${message}`,
    ],
    stdin: { kind: "none" },
  };
}

const COST = /Cost: \$([0-9]+(?:\.[0-9]+)?) message, \$([0-9]+(?:\.[0-9]+)?) session/;
const COMMIT = /^Commit ([0-9a-f]{7,40}) /;

export function parseAiderLine(line: string): LineFacts {
  const cost = COST.exec(line);
  if (cost !== null) {
    // One exchange with the model; the session figure is this process's running total.
    return { events: [{ type: "usage", text: line.trim() }], addTurns: 1, costUsd: Number(cost[2]) };
  }
  if (COMMIT.test(line)) return { events: [{ type: "commit", text: line.trim() }] };
  return plainText(line);
}
