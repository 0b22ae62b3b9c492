#!/usr/bin/env bash
# Real-peer tests: installs the Debian packages they need when missing, then runs test/interop.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
/usr/bin/python3 -c 'import impacket' 2>/dev/null || need+=(python3-impacket)
/usr/bin/python3 -c 'import exchangelib' 2>/dev/null || need+=(python3-exchangelib)
/usr/bin/python3 -c 'import requests_ntlm' 2>/dev/null || need+=(python3-requests-ntlm)
command -v curl >/dev/null || need+=(curl)
[ -f /etc/gss/mech.d/mech.ntlmssp.conf ] || need+=(gss-ntlmssp)
command -v samba-tool >/dev/null || need+=(samba samba-ad-dc samba-ad-provision winbind krb5-user)
command -v slapd >/dev/null || need+=(slapd)
command -v ldapsearch >/dev/null || need+=(ldap-utils)
# test/interop/haproxy.test.ts: the PROXY protocol from a real load balancer.
command -v haproxy >/dev/null || need+=(haproxy)
# test/interop/deb-package.test.ts: systemd-analyze verify, and what the package depends on.
command -v systemd-analyze >/dev/null || need+=(systemd)
command -v adduser >/dev/null || need+=(adduser)
command -v openssl >/dev/null || need+=(openssl)
# PostgreSQL for the audit store's contract, kill -9 and outage tests: the tests start a private
# cluster (initdb + pg_ctl, loopback, a free port; as root through runuser -u postgres).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v promtool >/dev/null || need+=(prometheus)
# the doctor's fault scenarios: real reverse proxies in front of the gateway, certificate chains from openssl
command -v nginx >/dev/null || need+=(nginx)
# test/interop/console-browser.test.ts: the admin console in a real browser (playwright-core drives it)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
exec node scripts/run-tests.mjs interop
