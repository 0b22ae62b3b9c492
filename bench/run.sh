#!/usr/bin/env bash
# npm run bench: installs the peers when missing, then runs every measurement in one go and
# writes docs/benchmarks.md. Loopback only; bounded in time.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v haproxy >/dev/null || need+=(haproxy)
command -v nginx >/dev/null || need+=(nginx)
command -v wrk >/dev/null || need+=(wrk)
# The login storm (bench/storm.ts) runs a Samba AD DC and loads it with ldapadd.
command -v samba-tool >/dev/null || need+=(samba samba-ad-dc samba-ad-provision winbind krb5-user)
command -v ldapadd >/dev/null || need+=(ldap-utils)
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null
fi
ulimit -n "$(ulimit -Hn)" || true
# The bench itself runs on the bundled Node (as under npm run) whatever node is first on PATH;
# --runtime node20|node24|node26|bun picks the gateway's runtime (bench/runtimes.ts).
PATH="$PWD/node_modules/.bin:$PATH"
# npm run bench:storm: the login storm alone (it rewrites only its section of docs/benchmarks.md).
if [ "${1:-}" = "--storm-only" ]; then shift; exec node --import tsx bench/storm.ts "$@"; fi
exec node --expose-gc --import tsx bench/run.ts "$@"
