import { randomBytes } from "node:crypto";

/**
 * `20260126-141600-3fa9c2`: the start time in UTC to the second (so ids sort
 * by start and a person can tell runs apart), then random hex so two runs
 * started in the same second still differ.
 */
export function runIdFor(at: Date, suffix: string = randomBytes(3).toString("hex")): string {
  const stamp = at.toISOString().replace(/\.\d+Z$/, "").replaceAll(/[-:]/g, "").replace("T", "-");
  return `${stamp}-${suffix}`;
}
