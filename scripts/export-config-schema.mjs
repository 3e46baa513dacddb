// Writes dist/cspace.schema.json, the JSON Schema of .cspace.json for editors,
// from the zod schema the CLI validates with, so the two cannot disagree.
// Reads the schema from src/ (Node runs TypeScript; the bundle in dist/ does
// not export it).
import { mkdir, writeFile } from "node:fs/promises";
import { z } from "zod";
import { configSchema } from "../src/core/config/schema.ts";

const target = new URL("../dist/cspace.schema.json", import.meta.url);

// "input": what a file may hold, so keys with defaults are optional.
const generated = z.toJSONSchema(configSchema, { io: "input", target: "draft-2020-12" });
const schema = {
  ...generated,
  title: "cspace configuration (.cspace.json, .cspace.local.json)",
};

await mkdir(new URL(".", target), { recursive: true });
await writeFile(target, `${JSON.stringify(schema, null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
