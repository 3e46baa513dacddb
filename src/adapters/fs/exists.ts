import { stat } from "node:fs/promises";

/** Whether anything (file, directory, link target) is at `file`. */
export async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}
