#!/usr/bin/env bash
# A throw-away OpenLDAP (slapd) on 127.0.0.1:3890 (ldap) and :6360 (ldaps) for the directory tests.
#   openldap.sh up DIR | down DIR
#   openldap.sh load DIR LDIF   bulk-load plain adds offline (slapadd -q: stop, load, start): the bench's 50,000 users
# groupOfNames: Outlook-Remote = {alice, Sales}, Sales = {bob}; carol in none. Passwords Passw0rd!
# The memberof overlay gives direct memberships only: nested groups must be walked by the client.
set -euo pipefail
cmd=${1:?up|down}; DIR=${2:?directory}
start_slapd() {
  slapd -f "$DIR/slapd.conf" -h "ldap://127.0.0.1:3890/ ldaps://127.0.0.1:6360/" >>"$DIR/slapd.log" 2>&1
  for _ in $(seq 1 50); do
    ldapsearch -x -H ldap://127.0.0.1:3890 -b '' -s base >/dev/null 2>&1 && break
    sleep 0.1
  done
}

stop_slapd() {
  if [ -f "$DIR/slapd.pid" ]; then
    pid=$(cat "$DIR/slapd.pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
}

case "$cmd" in
up)
  rm -rf "$DIR"; mkdir -p "$DIR/db" "$DIR/tls"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$DIR/tls/ldap.key" -out "$DIR/tls/ldap.crt" -days 30 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
  MODDIR=/usr/lib/ldap
  cat >"$DIR/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath $MODDIR
moduleload back_mdb
moduleload memberof
pidfile $DIR/slapd.pid
TLSCertificateFile $DIR/tls/ldap.crt
TLSCertificateKeyFile $DIR/tls/ldap.key
database mdb
suffix "dc=lab,dc=example"
rootdn "cn=admin,dc=lab,dc=example"
rootpw adminpw
directory $DIR/db
# mdb maps at most maxsize bytes (10 MiB by default): the bench loads 50,000 users.
maxsize 1073741824
# What any production OpenLDAP indexes: the user search and the group walk filter on these.
index objectClass eq
index uid,mail,cn eq
index member,uniqueMember eq
overlay memberof
access to attrs=userPassword by self read by anonymous auth by * none
access to * by users read by * none
CONF
  start_slapd
  H=$(slappasswd -s 'Passw0rd!')
  ldapadd -x -H ldap://127.0.0.1:3890 -D 'cn=admin,dc=lab,dc=example' -w adminpw >/dev/null <<LDIF
dn: dc=lab,dc=example
objectClass: dcObject
objectClass: organization
o: Lab
dc: lab

dn: ou=people,dc=lab,dc=example
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=lab,dc=example
objectClass: organizationalUnit
ou: groups

$(for u in alice bob carol svc-gateway; do printf 'dn: uid=%s,ou=people,dc=lab,dc=example\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: %s\nmail: %s@lab.example\nuserPassword: %s\n\n' "$u" "$u" "$u" "$u" "$u" "$H"; done)

dn: cn=Sales,ou=groups,dc=lab,dc=example
objectClass: groupOfNames
cn: Sales
member: uid=bob,ou=people,dc=lab,dc=example

dn: cn=Outlook-Remote,ou=groups,dc=lab,dc=example
objectClass: groupOfNames
cn: Outlook-Remote
member: uid=alice,ou=people,dc=lab,dc=example
member: cn=Sales,ou=groups,dc=lab,dc=example
LDIF
  echo "openldap up: ldap://127.0.0.1:3890 ldaps://127.0.0.1:6360 (CA $DIR/tls/ldap.crt)"
  ;;
load)
  stop_slapd
  slapadd -q -f "$DIR/slapd.conf" -l "${3:?ldif}"
  start_slapd
  ;;
down) stop_slapd ;;
esac
