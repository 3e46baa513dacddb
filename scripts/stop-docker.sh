#!/usr/bin/env bash
# Stops the dockerd that scripts/prepare-machine.sh started (its pid is in
# $CSPACE_DOCKERD_PIDFILE) and nothing else: an engine someone else runs stays up.
set -euo pipefail
PIDFILE="${CSPACE_DOCKERD_PIDFILE:-/tmp/cspace-dockerd.pid}"
[ -s "$PIDFILE" ] || exit 0
pid="$(cat "$PIDFILE")"
rm -f "$PIDFILE"
if ! kill -0 "$pid" 2>/dev/null; then exit 0; fi
echo "[stop] stopping dockerd (pid $pid)" >&2
kill -TERM "$pid"
for _ in $(seq 1 60); do
  kill -0 "$pid" 2>/dev/null || exit 0
  sleep 0.5
done
echo "[stop] dockerd did not stop within 30 s; killing it" >&2
kill -KILL "$pid" 2>/dev/null || true
