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
# the doctor's fault scenarios: real reverse proxies in front of the gateway, certificate chains from openssl
command -v nginx >/dev/null || need+=(nginx)
command -v haproxy >/dev/null || need+=(haproxy)
command -v openssl >/dev/null || need+=(openssl)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
exec node scripts/run-tests.mjs interop
