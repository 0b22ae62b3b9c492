#!/usr/bin/env bash
# A throw-away Samba AD domain controller on loopback for the LDAP directory tests and the bench.
#   samba-dc.sh up DIR                       provision (LAB / lab.example), start, create users and nested groups
#   samba-dc.sh storm DIR USERS GROUPS LOOSE add the login-storm population (scripts/storm-users.ts)
#   samba-dc.sh stop DIR | start DIR         stop / start the provisioned DC again (outage tests)
#   samba-dc.sh down DIR                     stop it
# Users (password Passw0rd!): alice in Outlook-Remote; bob in Sales, which is in Outlook-Remote;
# carol in no group; erin disabled, in Outlook-Remote. Service account svc-gateway / Svc-Passw0rd!
# LDAPS on 127.0.0.1:636, LDAP + StartTLS on 127.0.0.1:389. Only one such DC can run per machine
# (winbindd's socket directory is compiled in). No RPC service: its dynamic ports (49152-) lie in the
# ephemeral range, where a storm's client sockets take them and Samba then refuses to start.
set -euo pipefail
cmd=${1:?up|storm|stop|start|down}; DIR=${2:?directory}
CONF="$DIR/etc/smb.conf"
HERE="$(cd "$(dirname "$0")" && pwd)"
# A throw-away DC needs no durability: without this every LDAP add waits for an fsync (23 ms each here).
export TDB_NO_FSYNC=1
BASE='CN=Users,DC=lab,DC=example'

start() {
  if (echo >/dev/tcp/127.0.0.1/636) 2>/dev/null; then
    echo "something already listens on 127.0.0.1:636 (another test DC?): only one can run" >&2
    return 1
  fi
  samba -s "$CONF" -F --no-process-group -M single >>"$DIR/samba.log" 2>&1 &
  echo $! >"$DIR/samba.pid"
  pid=$(cat "$DIR/samba.pid")
  for _ in $(seq 1 150); do
    (echo >/dev/tcp/127.0.0.1/636) 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "samba did not open 636:" >&2
  tail -5 "$DIR/log.%m" >&2 2>/dev/null || true
  return 1
}

stop() {
  if [ -f "$DIR/samba.pid" ]; then
    pid=$(cat "$DIR/samba.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$DIR/samba.pid"
  fi
}

ldapadd_admin() {
  LDAPTLS_CACERT="$DIR/tls/dc.crt" ldapadd -H ldaps://127.0.0.1:636 -x -D 'Administrator@lab.example' -w 'Adm1n-Passw0rd!' "$@" >/dev/null
}

case "$cmd" in
up)
  rm -rf "$DIR"; mkdir -p "$DIR/run" "$DIR/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$DIR/tls/dc.key" -out "$DIR/tls/dc.crt" -days 30 \
    -subj "/CN=dc1.lab.example" -addext "subjectAltName=DNS:dc1.lab.example,DNS:localhost,IP:127.0.0.1" 2>/dev/null
  chmod 600 "$DIR/tls/dc.key"
  samba-tool domain provision --targetdir="$DIR" --realm=LAB.EXAMPLE --domain=LAB --server-role=dc \
    --dns-backend=NONE --adminpass='Adm1n-Passw0rd!' --host-name=dc1 --host-ip=127.0.0.1 \
    --option="interfaces=lo" --option="bind interfaces only=yes" \
    --option="server services=ldap, cldap, kdc" \
    --option="pid directory=$DIR/run" --option="log file=$DIR/log.%m" \
    --option="tls enabled=yes" --option="tls certfile=$DIR/tls/dc.crt" --option="tls keyfile=$DIR/tls/dc.key" --option="tls cafile=" \
    >"$DIR/provision.log" 2>&1
  start
  # One LDIF instead of a samba-tool call per object (each starts Python: about 0.7 s).
  pw() { printf '"%s"' "$1" | iconv -t UTF-16LE | base64 -w0; }
  P=$(pw 'Passw0rd!')
  {
    for u in alice bob carol erin; do
      uac=512; [ "$u" = erin ] && uac=514 # erin: ACCOUNTDISABLE
      printf 'dn: CN=%s,%s\nobjectClass: user\nsAMAccountName: %s\nuserPrincipalName: %s@lab.example\nmail: %s@lab.example\nunicodePwd:: %s\nuserAccountControl: %s\n\n' "$u" "$BASE" "$u" "$u" "$u" "$P" "$uac"
    done
    printf 'dn: CN=svc-gateway,%s\nobjectClass: user\nsAMAccountName: svc-gateway\nuserPrincipalName: svc-gateway@lab.example\nunicodePwd:: %s\nuserAccountControl: 512\n\n' "$BASE" "$(pw 'Svc-Passw0rd!')"
    printf 'dn: CN=Sales,%s\nobjectClass: group\nsAMAccountName: Sales\ngroupType: -2147483646\nmember: CN=bob,%s\n\n' "$BASE" "$BASE"
    printf 'dn: CN=Outlook-Remote,%s\nobjectClass: group\nsAMAccountName: Outlook-Remote\ngroupType: -2147483646\nmember: CN=alice,%s\nmember: CN=erin,%s\nmember: CN=Sales,%s\n\n' "$BASE" "$BASE" "$BASE" "$BASE"
  } >"$DIR/base.ldif"
  ldapadd_admin -f "$DIR/base.ldif"
  echo "samba AD DC up: ldaps://127.0.0.1:636 (CA $DIR/tls/dc.crt)"
  ;;
storm)
  (cd "$HERE/.." && node --import tsx scripts/storm-users.ts ldif "${3:-2000}" "${4:-20}" "${5:-100}") >"$DIR/storm.ldif"
  ldapadd_admin -f "$DIR/storm.ldif"
  echo "storm population added: ${3:-2000} users in ${4:-20} groups, ${5:-100} in none"
  ;;
stop) stop ;;
start) start ;;
down) stop ;;
esac
