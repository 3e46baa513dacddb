#!/usr/bin/env bash
# Installs the pinned agent CLIs (test/real-clis/pinned-clis.json) from the npm
# registry once per machine and builds the worker image the real-CLI lane runs:
#
#   1. each <package>@<version> goes into its own cache directory
#      $CSPACE_AGENT_CLI_CACHE/<package>@<version> (default
#      /var/cache/cspace/agent-clis), installed into a temporary directory and
#      renamed into place only when complete, so an interrupted run leaves no
#      half-installed cache;
#   2. the image cspace-agent-clis:<hash of the pinned file> is built FROM
#      cspace-base:bookworm with the cached installs copied in (no npm inside:
#      the base image is offline) and one wrapper per CLI on PATH. The base
#      has Node 18; the JS CLIs get the Node 24 binary from this repository's
#      node_modules/node, under /opt/agent-clis/node, used by them only.
#
# Safe to run twice: an existing cache directory or image is kept. Prints the
# image's name on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."

PINNED="test/real-clis/pinned-clis.json"
CACHE="${CSPACE_AGENT_CLI_CACHE:-/var/cache/cspace/agent-clis}"
BASE_IMAGE="${CSPACE_BASE_IMAGE:-cspace-base:bookworm}"
NODE24="node_modules/node/bin/node"
LABEL="dev.cspace.agent-clis"

log() { printf '[agent-clis] %s\n' "$*" >&2; }

# "<package>@<version>" per line, from the pinned file (read with the machine's Node).
specs() { node -e 'const p = require(process.argv[1]); for (const [k, v] of Object.entries(p)) if (!k.startsWith("$")) console.log(`${v.package}@${v.version}`);' "$PWD/$PINNED"; }

cache_dir() { printf '%s/%s' "$CACHE" "$(printf '%s' "$1" | tr '/' '+')"; }

install_one() {
  local spec="$1" dir tmp started
  dir="$(cache_dir "$spec")"
  if [ -f "$dir/.complete" ]; then log "$spec already cached in $dir"; return; fi
  tmp="$(mktemp -d "$CACHE/.install.XXXXXX")"
  # mktemp makes it 0700: the image's non-root user must read and run what is inside.
  chmod 0755 "$tmp"
  started=$(date +%s)
  log "installing $spec into $dir"
  # Install scripts stay on: Claude Code's postinstall links its native binary
  # over the placeholder bin/claude.exe.
  npm install --prefix "$tmp" --no-audit --no-fund --no-save --loglevel=error "$spec" >&2
  echo "$spec" > "$tmp/.complete"
  rm -rf "$dir"
  mv "$tmp" "$dir"
  log "$spec installed in $(( $(date +%s) - started ))s, $(du -sh "$dir" | cut -f1)"
}

image_name() {
  local hash
  hash="$( (cat "$PINNED"; cat "$0") | sha256sum | cut -c1-16)"
  printf 'cspace-agent-clis:%s' "$hash"
}

build_image() {
  local image="$1" context started
  if docker image inspect "$image" >/dev/null 2>&1; then log "$image already built"; return; fi
  context="$(mktemp -d /tmp/cspace-agent-clis-context.XXXXXX)"
  # Hard links keep the ~1 GB context free to make (same filesystem) or fall back to a copy.
  mkdir -p "$context/clis"
  while read -r spec; do
    cp -al "$(cache_dir "$spec")" "$context/clis/" 2>/dev/null || cp -a "$(cache_dir "$spec")" "$context/clis/"
  done < <(specs)
  # Directories only (their files are hard links to the cache): uid 1000 must enter them.
  chmod 0755 "$context/clis" "$context/clis/"*
  cp "$NODE24" "$context/node"
  write_wrappers "$context/bin"
  cat > "$context/Dockerfile" <<DOCKERFILE
FROM $BASE_IMAGE
RUN useradd --create-home --uid 1000 --shell /bin/bash dev && mkdir -p /workspaces && chown 1000:1000 /workspaces
COPY node /opt/agent-clis/node/bin/node
COPY clis/ /opt/agent-clis/
COPY bin/ /usr/local/bin/
LABEL $LABEL=1
DOCKERFILE
  started=$(date +%s)
  log "building $image"
  docker build -q -t "$image" "$context" >&2
  rm -rf "$context"
  log "$image built in $(( $(date +%s) - started ))s, $(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.0f MB", $1/1e6}')"
}

# One wrapper per CLI: claude is a native binary; the others are Node scripts
# run on the Node 24 binary brought in for them (the base's Node 18 is too old).
write_wrappers() {
  local bin="$1"
  mkdir -p "$bin"
  node -e '
    const fs = require("fs"), path = require("path");
    const pinned = require(process.argv[1]), bin = process.argv[2];
    for (const [key, v] of Object.entries(pinned)) {
      if (key.startsWith("$")) continue;
      const dir = `/opt/agent-clis/${v.package.replace("/", "+")}@${v.version}`;
      const pkg = `${dir}/node_modules/${v.package}`;
      const target = key === "claude" ? `exec ${pkg}/bin/claude.exe "$@"` : `PATH=/opt/agent-clis/node/bin:$PATH exec ${dir}/node_modules/.bin/${v.bin} "$@"`;
      fs.writeFileSync(path.join(bin, v.bin), `#!/bin/sh\n# ${v.package}@${v.version} (test/real-clis/pinned-clis.json)\n${target}\n`, { mode: 0o755 });
    }' "$PWD/$PINNED" "$bin"
}

mkdir -p "$CACHE"
total=$(date +%s)
while read -r spec; do install_one "$spec"; done < <(specs)
log "cache: $(du -sh "$CACHE" | cut -f1) in $CACHE"
image="$(image_name)"
build_image "$image"
log "done in $(( $(date +%s) - total ))s"
echo "$image"
