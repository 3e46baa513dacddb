import type { Launch } from "../../core/messaging/launch.ts";

/**
 * The first turn's text. A restart that resumes the agent's session says why
 * and asks it to go on; one that cannot resume starts over with the original
 * prompt plus the reason, and a reminder that earlier work may already be in
 * the workspace.
 */
export function firstPrompt(original: string, launch: Launch, resumable: boolean): string {
  const reason = launch.restartReason;
  if (reason === null) return original;
  if (resumable && launch.resumeSessionId !== null) {
    return `You were restarted (reason: ${reason}). Continue the task where you left off; your earlier work is still in the workspace.`;
  }
  return `${original}\n\n---\nThis is a restart (reason: ${reason}). Work from before it may already be in the workspace: check \`git log\` and \`git status\` first, and continue from there.\n`;
}
