import type { AgentPreset as PresetName } from "../../config/schema.ts";
import type { AgentPreset } from "../preset.ts";
import { aiderPreset } from "./aider.ts";
import { claudePreset } from "./claude.ts";
import { codexPreset } from "./codex.ts";
import { commandPreset } from "./command.ts";
import { geminiPreset } from "./gemini.ts";
import { opencodePreset } from "./opencode.ts";
import { scriptedPreset } from "./scripted.ts";

/** Every preset, by the name `agent.preset` and `--agent` take. */
export const PRESETS: Readonly<Record<PresetName, AgentPreset>> = {
  claude: claudePreset,
  codex: codexPreset,
  gemini: geminiPreset,
  aider: aiderPreset,
  opencode: opencodePreset,
  command: commandPreset,
  scripted: scriptedPreset,
};

/** The preset of that name; null for a name that is none (config validation names the valid ones). */
export function presetNamed(name: string): AgentPreset | null {
  return Object.hasOwn(PRESETS, name) ? PRESETS[name as PresetName] : null;
}
