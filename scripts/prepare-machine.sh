#!/usr/bin/env bash
# Prepares this machine for cspace's docker-lane tests. Safe to run any number
# of times: every step first checks whether its work is already done.
#
#   1. installs the Docker engine, debootstrap, tmux and sshd from Debian's packages;
#   2. starts dockerd in the background when nothing answers on the socket;
#   3. builds the offline base image cspace-base:bookworm when it is missing.
#
# When this script starts dockerd it writes its pid to $CSPACE_DOCKERD_PIDFILE
# (default /tmp/cspace-dockerd.pid) so scripts/stop-docker.sh can stop exactly
# that daemon and nothing someone else started.
set -euo pipefail

BASE_IMAGE="${CSPACE_BASE_IMAGE:-cspace-base:bookworm}"
PIDFILE="${CSPACE_DOCKERD_PIDFILE:-/tmp/cspace-dockerd.pid}"
DOCKERD_LOG="${CSPACE_DOCKERD_LOG:-/tmp/cspace-dockerd.log}"
SOCKET="/var/run/docker.sock"
DOCKERD_OWN_PIDFILE="/var/run/docker.pid"
MIRROR="${CSPACE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

log() { printf '[prepare] %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

apt_updated=0
apt_install() {
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    apt_updated=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

install_packages() {
  local missing=()
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
  # The dashboard's docker-lane test drives cspace in a real pseudo-terminal through tmux.
  command -v tmux >/dev/null 2>&1 || missing+=(tmux)
  # Remote engines in tests (test/support/remote-engines.ts) are reached over an sshd of their own, run by hand.
  [ -x /usr/sbin/sshd ] || missing+=(openssh-server)
  command -v ssh-keygen >/dev/null 2>&1 || missing+=(openssh-client)
  command -v tc >/dev/null 2>&1 || missing+=(iproute2)
  if [ "${#missing[@]}" -gt 0 ]; then
    apt_install "${missing[@]}"
  else
    log "dockerd, debootstrap, tmux and sshd already installed"
  fi
}

engine_answers() {
  docker_api_get /_ping >/dev/null 2>&1
}

# Talks to the engine over its socket with curl when available, else with the
# docker client; either answers whether the engine is up.
docker_api_get() {
  if command -v curl >/dev/null 2>&1; then
    curl -sf --unix-socket "$SOCKET" "http://localhost$1"
  else
    docker version >/dev/null 2>&1
  fi
}

start_engine() {
  if engine_answers; then
    log "a Docker engine already answers on $SOCKET"
    return
  fi
  log "starting dockerd (log: $DOCKERD_LOG)"
  # setsid: the daemon must outlive this script and not take its signals.
  # Its pid is read from its own pid file once it answers: $! would be the
  # pid of a wrapper, not of dockerd.
  as_root setsid dockerd --pidfile "$DOCKERD_OWN_PIDFILE" >"$DOCKERD_LOG" 2>&1 < /dev/null &
  for _ in $(seq 1 120); do
    if engine_answers; then
      as_root cat "$DOCKERD_OWN_PIDFILE" >"$PIDFILE"
      log "dockerd is up (pid $(cat "$PIDFILE"))"
      return
    fi
    sleep 0.5
  done
  log "dockerd did not answer within 60 s; last lines of its log:"
  tail -n 20 "$DOCKERD_LOG" >&2 || true
  exit 1
}

build_base_image() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "$BASE_IMAGE already present"
    return
  fi
  local root
  root="$(mktemp -d /tmp/cspace-rootfs.XXXXXX)"
  trap 'as_root rm -rf "$root"' RETURN
  log "debootstrap bookworm into $root (about 30 s)"
  as_root debootstrap --variant=minbase --include=git,ca-certificates,nodejs \
    bookworm "$root" "$MIRROR" >/tmp/cspace-debootstrap.log 2>&1 || {
      tail -n 20 /tmp/cspace-debootstrap.log >&2; exit 1; }
  log "importing $BASE_IMAGE"
  as_root tar -C "$root" -c . | docker import \
    -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    -c 'LABEL dev.cspace.base-image=true' - "$BASE_IMAGE" >/dev/null
  log "$BASE_IMAGE built"
}

install_packages
start_engine
build_base_image
