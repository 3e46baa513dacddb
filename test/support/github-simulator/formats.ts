import type { Ajv } from "ajv";
import { createRequire } from "node:module";

/** GitHub's own format names: accepted without checking, as the notes say. */
export const githubFormats = ["repo.nwo", "timestamp", "int32", "int64", "double", "binary"] as const;

// ajv-formats is CommonJS whose default export types do not survive nodenext.
const addFormats = createRequire(import.meta.url)("ajv-formats") as (ajv: Ajv) => Ajv;

export function addFormatsTo(ajv: Ajv): Ajv {
  addFormats(ajv);
  for (const name of githubFormats) ajv.addFormat(name, true);
  return ajv;
}
