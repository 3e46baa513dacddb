import type { ExecOptions } from "../../core/instances/ports.ts";

/**
 * A Kubernetes exec has no user, working directory or environment of its own:
 * it runs the argv it is given as the container's user. So every command
 * cspace runs in a pod goes through this small shell script, with its
 * settings as arguments (never spliced into the script, so nothing needs
 * quoting): it changes directory, drops to the user with `setpriv` (the pod
 * runs as root with SETUID/SETGID, as a Docker worker does, so root steps
 * and user steps both work), sets HOME as `docker exec -u` does, and the
 * environment through `env`. The image needs sh, env, id, getent and
 * setpriv (util-linux): Debian and Ubuntu bases have them.
 */
export const EXEC_SCRIPT = [
  'wd=$1 user=$2; shift 2',
  'if [ -n "$wd" ]; then cd -- "$wd" || exit 126; fi',
  'if [ -z "$user" ]; then exec env -- "$@"; fi',
  'u=${user%%:*} g=${user#*:}',
  'if [ "$g" = "$user" ]; then g=$(id -g -- "$u" 2>/dev/null || echo 0); fi',
  'entry=$(getent passwd "$u")',
  'if [ -n "$entry" ]; then groups=--init-groups; else groups=--clear-groups; fi',
  'home=$(printf %s "$entry" | cut -d: -f6)',
  'exec setpriv --reuid="$u" --regid="$g" "$groups" env -- HOME="${home:-/}" "$@"',
].join("\n");

/** The argv a pod runs for `command` with these options; `defaultUser` stands in for Docker's container user. */
export function wrappedCommand(command: readonly string[], options: Pick<ExecOptions, "user" | "workdir" | "env">, defaultUser: string | undefined): string[] {
  const env = Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`);
  return ["/bin/sh", "-c", EXEC_SCRIPT, "cspace-exec", options.workdir ?? "", options.user ?? defaultUser ?? "", ...env, ...command];
}

/** A command started and left running on its own (the supervisor): its own session, its output dropped. */
export function detachedCommand(command: readonly string[]): string[] {
  return ["/bin/sh", "-c", 'setsid "$@" </dev/null >/dev/null 2>&1 &', "cspace-detach", ...command];
}
