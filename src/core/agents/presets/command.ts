import { InternalError } from "../../errors.ts";
import type { AgentPreset, Invocation, StartInput } from "../preset.ts";
import { plainText } from "./json-line.ts";

/**
 * Any command line (`agent.command`), run with /bin/sh -c in the workspace.
 * The prompt is its stdin, then stdin is closed; CSPACE_PROMPT_FILE names
 * the prompt as a file for commands that prefer one. With
 * `agent.commandInput: "stream"` stdin stays open instead: the prompt and
 * then each message are written to it as lines, at once (the command never
 * says a turn ended). Otherwise a follow-up message
 * starts the command again with the message as stdin and
 * CSPACE_FOLLOW_UP=1, so a wrapper script can tell a continuation from a
 * start. Every output line is a text event; there is no session, turn
 * count or cost.
 */
export const commandPreset: AgentPreset = {
  name: "command",
  executable: "sh",
  npmPackage: null,
  resumable: false,
  keepsSession: false,
  credentialEnv: [],
  networkHosts: [],
  closeStdinToFinish: false,
  start: (input) => commandRun(input, input.prompt, false),
  followUp: (text, state) => (state.input.commandInput === "stream" ? { kind: "stdin", line: text } : { kind: "invoke", invocation: commandRun(state.input, text, true) }),
  takesMessagesWhileWorking: (input) => input.commandInput === "stream",
  parseLine: plainText,
};

function commandRun(input: StartInput, text: string, followUp: boolean): Invocation {
  // The schema requires agent.command with this preset, so its absence is a bug upstream.
  if (input.command === null) throw new InternalError('the "command" preset was started without agent.command');
  return {
    argv: ["/bin/sh", "-c", input.command],
    // stream: the command keeps its stdin, and each message arrives on it as a line.
    stdin: input.commandInput === "stream" ? { kind: "stream", lines: [text] } : { kind: "text", text },
    env: { CSPACE_PROMPT_FILE: input.promptFile, CSPACE_FOLLOW_UP: followUp ? "1" : "0" },
  };
}
