#!/usr/bin/env bash
# npm run bench: installs the peers when missing, then runs every measurement in one go and
# writes docs/benchmarks.md. Loopback only; bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v haproxy >/dev/null || need+=(haproxy)
command -v nginx >/dev/null || need+=(nginx)
command -v wrk >/dev/null || need+=(wrk)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
ulimit -n "$(ulimit -Hn)" || true
exec node --expose-gc --import tsx bench/run.ts "$@"
