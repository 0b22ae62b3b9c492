#!/usr/bin/env bash
# A throw-away Samba AD domain controller on loopback for the LDAP directory tests.
#   samba-dc.sh up DIR    provision (LAB / lab.example), start, create users and nested groups
#   samba-dc.sh down DIR  stop it
# Users (password Passw0rd!): alice in Outlook-Remote; bob in Sales, which is in Outlook-Remote;
# carol in no group; erin disabled, in Outlook-Remote. Service account svc-gateway / Svc-Passw0rd!
set -euo pipefail
cmd=${1:?up|down}; DIR=${2:?directory}
CONF="$DIR/etc/smb.conf"
case "$cmd" in
up)
  rm -rf "$DIR"; mkdir -p "$DIR/run" "$DIR/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$DIR/tls/dc.key" -out "$DIR/tls/dc.crt" -days 30 \
    -subj "/CN=dc1.lab.example" -addext "subjectAltName=DNS:dc1.lab.example,DNS:localhost,IP:127.0.0.1" 2>/dev/null
  chmod 600 "$DIR/tls/dc.key"
  samba-tool domain provision --targetdir="$DIR" --realm=LAB.EXAMPLE --domain=LAB --server-role=dc \
    --dns-backend=NONE --adminpass='Adm1n-Passw0rd!' --host-name=dc1 --host-ip=127.0.0.1 \
    --option="interfaces=lo" --option="bind interfaces only=yes" \
    --option="server services=ldap, cldap, kdc, rpc" \
    --option="pid directory=$DIR/run" --option="log file=$DIR/log.%m" \
    --option="tls enabled=yes" --option="tls certfile=$DIR/tls/dc.crt" --option="tls keyfile=$DIR/tls/dc.key" --option="tls cafile=" \
    >"$DIR/provision.log" 2>&1
  samba -s "$CONF" -F --no-process-group -M single >"$DIR/samba.log" 2>&1 &
  echo $! >"$DIR/samba.pid"
  for _ in $(seq 1 100); do
    (echo >/dev/tcp/127.0.0.1/636) 2>/dev/null && break
    sleep 0.1
  done
  T="-s $CONF"
  samba-tool domain passwordsettings set $T --complexity=off --history-length=0 --min-pwd-age=0 --max-pwd-age=0 >/dev/null
  for u in alice bob carol erin; do samba-tool user create "$u" 'Passw0rd!' $T --mail-address="$u@lab.example" >/dev/null; done
  samba-tool user create svc-gateway 'Svc-Passw0rd!' $T >/dev/null
  samba-tool group add Outlook-Remote $T >/dev/null
  samba-tool group add Sales $T >/dev/null
  samba-tool group addmembers Outlook-Remote alice,erin,Sales $T >/dev/null
  samba-tool group addmembers Sales bob $T >/dev/null
  samba-tool user disable erin $T >/dev/null
  echo "samba AD DC up: ldaps://127.0.0.1:636 (CA $DIR/tls/dc.crt)"
  ;;
down)
  if [ -f "$DIR/samba.pid" ]; then kill "$(cat "$DIR/samba.pid")" 2>/dev/null || true; rm -f "$DIR/samba.pid"; fi
  ;;
esac
