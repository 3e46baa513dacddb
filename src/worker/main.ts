/**
 * The worker bundle's entry (`node /opt/cspace/worker.cjs <role> …`), one
 * file with no dependencies for the container's Node 18:
 *   supervise <instance dir>   the supervisor (src/worker/supervisor/run.ts)
 *   cli <args…>                the in-container `cspace` (/usr/local/bin/cspace)
 *   scripted [args…]           the deterministic scripted agent (src/worker/agents/scripted.ts)
 *   egress-proxy [ready]       the egress proxy of an allowlist, in its own container (src/worker/egress-proxy.ts)
 *   relay [--dir D] [--heartbeat-ms N] [--no-c-sock]  a remote worker's sockets carried over the exec's stdio (src/worker/relay.ts)
 *   mirror [dir] [--poll-ms N] [--beat-ms N]
 *                              the instance directory's changes as NDJSON on stdout, for a host that shares no
 *                              filesystem with the container (src/worker/instance-mirror.ts)
 * Each role is loaded only when asked for, so `cspace send` does not load the supervisor.
 */

const USAGE =
  "usage: worker.cjs supervise <instance dir> | cli <args…> | scripted [args…] | egress-proxy [ready] | relay [--dir D] [--heartbeat-ms N] [--no-c-sock] | mirror [dir] [--poll-ms N] [--beat-ms N]\n";

async function main(argv: readonly string[]): Promise<void> {
  const [role, ...rest] = argv;
  switch (role) {
    case "supervise": {
      const [dir, ...extra] = rest;
      if (dir === undefined || extra.length > 0) {
        process.stderr.write(USAGE);
        process.exit(2);
      }
      const [{ runSupervisor }, { presetNamed }] = await Promise.all([import("./supervisor/run.ts"), import("../core/agents/presets/index.ts")]);
      const code = await runSupervisor({
        dir,
        presetFor: (name) => {
          const preset = presetNamed(name);
          if (preset === null) throw new Error(`there is no preset named ${JSON.stringify(name)}`);
          return preset;
        },
      });
      // Exit now rather than wait for every handle to close: the instance's lock is already released.
      process.exit(code);
      break;
    }
    case "cli": {
      const { runCli } = await import("./cli/cli.ts");
      process.exitCode = await runCli(rest, {
        env: process.env,
        stdin: process.stdin,
        out: (text) => { process.stdout.write(text); },
        err: (text) => { process.stderr.write(text); },
      });
      break;
    }
    case "scripted": {
      const { runScriptedAgent } = await import("./agents/scripted.ts");
      process.exit(await runScriptedAgent(rest, process.stdin, process.stdout, process.env));
      break;
    }
    case "egress-proxy": {
      const { runEgressProxy, waitForProxy } = await import("./egress-proxy.ts");
      if (rest[0] === "ready") process.exit(await waitForProxy(10_000));
      await runEgressProxy(process.env, process.stdout);
      break;
    }
    case "relay": {
      const { runRelay } = await import("./relay.ts");
      // Exit at once: a connection the host left half open must not keep a relay whose exec is gone.
      process.exit(await runRelay(rest, { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }));
      break;
    }
    case "mirror": {
      const { parseMirrorArgs, runInstanceMirror } = await import("./instance-mirror.ts");
      const args = parseMirrorArgs(rest);
      if (typeof args === "string") {
        process.stderr.write(`${args}\n${USAGE}`);
        process.exit(2);
      }
      process.exit(await runInstanceMirror({ ...args, input: process.stdin, output: process.stdout }));
      break;
    }
    case undefined:
    default:
      process.stderr.write(USAGE);
      process.exit(2);
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(4);
});
