import type { Config } from "../../core/config/schema.ts";
import { envMapLeaks, forgeSecretsFrom, refuseLeaks } from "../../core/secrets/forge-token.ts";

/**
 * The environment the supervisor (and so the agent) gets: the devcontainer's
 * remoteEnv, `agent.env`, and the host variables `agent.passEnv` names. The
 * forge token never enters it, by name or by value, whatever the route.
 */
export function agentEnvironment(config: Config, hostEnv: NodeJS.ProcessEnv, remoteEnv: Readonly<Record<string, string>>): Record<string, string> {
  const passed: Record<string, string> = {};
  for (const name of config.agent.passEnv) {
    const value = hostEnv[name];
    if (value !== undefined) passed[name] = value;
  }
  const secrets = forgeSecretsFrom(hostEnv);
  refuseLeaks([...envMapLeaks(".cspace.json", "agent.env", config.agent.env, secrets), ...envMapLeaks("the host environment", "agent.passEnv", passed, secrets)]);
  return { ...remoteEnv, ...config.agent.env, ...passed };
}
