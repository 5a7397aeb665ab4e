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
set -eu

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
  command -v "$tool" >/dev/null 2>&1 || { echo "bench-prepare: $tool is still missing" >&2; exit 1; }
done
echo "bench-prepare: ready ($*)"
