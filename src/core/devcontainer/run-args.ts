import { UserError } from "../errors.ts";
import { quoteForMessage } from "../instances/names.ts";
import { invalid } from "./problems.ts";
import { noNewPrivilegesSetting, UNAPPLIED } from "./security-opt.ts";
import type { RunArgs } from "./spec.ts";

export const SUPPORTED_RUN_ARGS = "--memory/-m, --cpus, --cap-add, --env/-e, --init, --security-opt no-new-privileges[=false]";

const UNITS: Readonly<Record<string, number>> = { "": 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/** Docker's size syntax: `512m`, `4g`, `4GB`, `1.5g`, `1048576` (bytes). Null when it is not a size. */
export function parseSize(text: string): number | null {
  const match = /^(\d+(?:\.\d+)?) ?([bkmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (match === null) return null;
  const factor = UNITS[(match[2] ?? "").toLowerCase()] ?? 1;
  const bytes = Math.round(Number(match[1]) * factor);
  return bytes > 0 && Number.isSafeInteger(bytes) ? bytes : null;
}

type Flag = "memory" | "cpus" | "cap-add" | "env" | "init" | "security-opt";

const NAMES: Readonly<Record<string, Flag>> = {
  "--memory": "memory",
  "-m": "memory",
  "--cpus": "cpus",
  "--cap-add": "cap-add",
  "--env": "env",
  "-e": "env",
  "--init": "init",
  "--security-opt": "security-opt",
};

/**
 * The documented subset of `docker run` options. Anything else is refused
 * rather than ignored, since a silently dropped option (a device, a network)
 * would make the container differ from what the project expects.
 */
export function parseRunArgs(
  file: string,
  value: unknown,
  localEnv: Readonly<Record<string, string | undefined>>,
): RunArgs {
  if (value === undefined) return { memoryBytes: null, nanoCpus: null, capAdd: [], noNewPrivileges: true, env: {}, init: false };
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === "string")) {
    throw invalid(file, "runArgs", value, 'expected a list of text arguments, like ["--memory=4g"]');
  }
  let memoryBytes: number | null = null;
  let nanoCpus: number | null = null;
  let init = false;
  let noNewPrivileges = true;
  const capAdd: string[] = [];
  const env: [string, string][] = [];
  for (let i = 0; i < value.length; i++) {
    const arg = value[i] ?? "";
    const eq = arg.startsWith("-") ? arg.indexOf("=") : -1;
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const flag = Object.hasOwn(NAMES, name) ? NAMES[name] : undefined;
    if (flag === undefined) {
      throw new UserError(`${file}: runArgs: ${quoteForMessage(arg)} is not supported by cspace`, {
        hint: `supported runArgs: ${SUPPORTED_RUN_ARGS}; set other container options in the Dockerfile or .cspace.json`,
      });
    }
    if (flag === "init") {
      const setting = eq === -1 ? "true" : arg.slice(eq + 1);
      if (setting !== "true" && setting !== "false") throw invalid(file, "runArgs --init", setting, "expected --init, --init=true or --init=false");
      init = setting === "true";
      continue;
    }
    let argument: string;
    if (eq !== -1) argument = arg.slice(eq + 1);
    else {
      const next = value[i + 1];
      if (next === undefined) throw invalid(file, `runArgs ${name}`, undefined, `expected a value after ${name}`);
      argument = next;
      i++;
    }
    switch (flag) {
      case "memory": {
        memoryBytes = parseSize(argument);
        if (memoryBytes === null) throw invalid(file, `runArgs ${name}`, argument, 'expected a size above 0, like "512m" or "4g"');
        break;
      }
      case "cpus": {
        const cpus = Number(argument);
        if (argument.trim() === "" || !Number.isFinite(cpus) || cpus <= 0) {
          throw invalid(file, `runArgs ${name}`, argument, 'expected a number of CPUs above 0, like "2" or "1.5"');
        }
        nanoCpus = Math.round(cpus * 1e9);
        break;
      }
      case "cap-add":
        if (!/^[A-Za-z_]+$/.test(argument)) throw invalid(file, `runArgs ${name}`, argument, 'expected a capability name, like "SYS_PTRACE"');
        capAdd.push(argument);
        break;
      case "security-opt": {
        const setting = noNewPrivilegesSetting(argument);
        if (setting === null) throw invalid(file, `runArgs ${name}`, argument, `expected no-new-privileges or no-new-privileges=false (${UNAPPLIED})`);
        if (!setting) noNewPrivileges = false;
        break;
      }
      case "env": {
        const at = argument.indexOf("=");
        const key = at === -1 ? argument : argument.slice(0, at);
        if (!/^[A-Za-z_][A-Za-z0-9_.-]*$/.test(key)) throw invalid(file, `runArgs ${name}`, argument, 'expected KEY=VALUE or KEY, like "DEBUG=1"');
        // `-e KEY` copies the host's value, and leaves the variable out when the host has none, as docker does.
        const local = Object.hasOwn(localEnv, key) ? localEnv[key] : undefined;
        if (at !== -1) env.push([key, argument.slice(at + 1)]);
        else if (local !== undefined) env.push([key, local]);
        break;
      }
    }
  }
  return { memoryBytes, nanoCpus, capAdd, noNewPrivileges, env: Object.fromEntries(env), init };
}
