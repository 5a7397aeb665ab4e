#!/bin/sh
# Prepares the machine for a benchmark: installs what it needs when missing, from Debian's
# packages (apt-get; sudo when not root), and Envoy through the project's install step.
#
#   sh scripts/bench-prepare.sh wrk h2load redis-server
#
# Tools by benchmark (npm's prebench:* scripts call this with the right list):
#   propagation: envoy
#   authz:       envoy wrk h2load
#   ratelimit:   envoy wrk h2load redis-server
#   request-path: envoy wrk redis-server
#   acme:        envoy (and Go: Pebble is built by the tests' support, test/support/pebble.ts)
#   ratelimit-peer (bench/ratelimit's peer): envoyproxy/ratelimit's service_cmd (go install, pinned)
#     and bench/ratelimit/rlsload (go build), both into .cache/bench-bin/; needs Go and its
#     module proxy (GOPROXY/GOFLAGS as the machine sets them).
set -eu

# envoyproxy/ratelimit at a pinned commit (its module has no release tags for the service).
RATELIMIT_PEER_VERSION=v1.4.1-0.20260122083618-3fb702589d36

prepare_ratelimit_peer() {
  bin_dir="$(pwd)/.cache/bench-bin"
  mkdir -p "$bin_dir"
  if ! command -v go >/dev/null 2>&1; then
    echo "bench-prepare: go is missing (Debian: apt-get install golang-go), needed for the ratelimit peer" >&2
    exit 1
  fi
  if [ ! -x "$bin_dir/service_cmd" ]; then
    echo "bench-prepare: go install github.com/envoyproxy/ratelimit/src/service_cmd@$RATELIMIT_PEER_VERSION"
    GOBIN="$bin_dir" go install "github.com/envoyproxy/ratelimit/src/service_cmd@$RATELIMIT_PEER_VERSION"
  fi
  (cd bench/ratelimit/rlsload && go build -o "$bin_dir/rlsload" .)
}

package_of() {
  case "$1" in
    wrk) echo wrk ;;
    h2load) echo nghttp2-client ;;
    redis-server) echo redis-server ;;
    *) echo "" ;;
  esac
}

missing=""
for tool in "$@"; do
  if [ "$tool" = envoy ]; then
    node scripts/install-envoy.mjs
    continue
  fi
  if [ "$tool" = ratelimit-peer ]; then
    prepare_ratelimit_peer
    continue
  fi
  if ! command -v "$tool" >/dev/null 2>&1; then
    pkg=$(package_of "$tool")
    if [ -z "$pkg" ]; then
      echo "bench-prepare: no package known for $tool" >&2
      exit 1
    fi
    missing="$missing $pkg"
  fi
done

if [ -n "$missing" ]; then
  sudo=""
  if [ "$(id -u)" != 0 ]; then sudo="sudo"; fi
  echo "bench-prepare: installing$missing"
  $sudo apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing
fi

for tool in "$@"; do
  [ "$tool" = envoy ] && continue
  [ "$tool" = ratelimit-peer ] && continue
  command -v "$tool" >/dev/null 2>&1 || { echo "bench-prepare: $tool is still missing" >&2; exit 1; }
done
echo "bench-prepare: ready ($*)"
