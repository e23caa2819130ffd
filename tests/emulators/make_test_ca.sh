#!/usr/bin/env bash
# Makes throwaway TLS material for the platform emulators' tests. Nothing here is secret:
# every key is generated fresh, lives only in DIR, and is trusted by nobody but the tests.
#
# Usage: make_test_ca.sh DIR
#
# Writes into DIR (created if missing):
#   ca.pem, ca.key                    the test CA (trust anchor the tests verify against)
#   server.pem, server.key            localhost / 127.0.0.1 / ::1, signed by the test CA, valid now
#   expired.pem, expired.key          same names, signed by the test CA, expired in 2020
#   other-ca.pem, other-ca.key        a second, unrelated CA
#   wrong-ca.pem, wrong-ca.key        localhost / 127.0.0.1 / ::1, signed by the second CA
# Keys are EC P-256 (fast to make); certificates are PEM.
set -euo pipefail

if [ $# -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
command -v openssl >/dev/null || {
  echo "make_test_ca.sh: openssl not found (Debian package: openssl)" >&2
  exit 1
}

dir=$1
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/pb-test-ca.XXXXXX")
trap 'rm -rf "$work"' EXIT

newkey() { # FILE
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null
  chmod 600 "$1"
}

# A CA: self-signed, CA:TRUE, may only sign certificates.
make_ca() { # NAME SUBJECT
  newkey "$dir/$1.key"
  openssl req -x509 -new -key "$dir/$1.key" -out "$dir/$1.pem" -days 30 -sha256 \
    -subj "$2" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "subjectKeyIdentifier=hash" 2>/dev/null
}

# A server certificate for localhost signed by CA; `openssl ca` is used (rather than
# `openssl x509 -req`) because it can set an arbitrary validity window, which the expired
# certificate needs.
make_server() { # NAME CA STARTDATE ENDDATE
  local name=$1 ca=$2 start=$3 end=$4 db="$work/$1"
  mkdir -p "$db"
  : >"$db/index.txt"
  openssl rand -hex 8 >"$db/serial"
  cat >"$db/ca.cnf" <<CNF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = $db/index.txt
serial = $db/serial
new_certs_dir = $db
certificate = $dir/$ca.pem
private_key = $dir/$ca.key
default_md = sha256
policy = policy_any
copy_extensions = none
unique_subject = no
x509_extensions = server_ext
[ policy_any ]
commonName = supplied
[ server_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1,IP:::1
authorityKeyIdentifier = keyid
subjectKeyIdentifier = hash
CNF
  newkey "$dir/$name.key"
  openssl req -new -key "$dir/$name.key" -out "$db/req.csr" -subj "/CN=localhost" 2>/dev/null
  openssl ca -batch -notext -config "$db/ca.cnf" -in "$db/req.csr" -out "$dir/$name.pem" \
    -startdate "$start" -enddate "$end" >"$db/ca.log" 2>&1 || {
    cat "$db/ca.log" >&2
    echo "make_test_ca.sh: signing $name failed" >&2
    exit 1
  }
}

now=$(date -u +%Y%m%d%H%M%SZ)
soon=$(date -u -d '+30 days' +%Y%m%d%H%M%SZ)
# Back-date by an hour so a client whose clock is slightly behind still accepts it.
start=$(date -u -d '-1 hour' +%Y%m%d%H%M%SZ)

make_ca ca "/CN=PackageBee Test CA"
make_ca other-ca "/CN=PackageBee Other Test CA"
make_server server ca "$start" "$soon"
make_server expired ca 20200101000000Z 20200102000000Z
make_server wrong-ca other-ca "$start" "$soon"

# Sanity: the good certificate verifies, the other two do not (for the reasons intended).
openssl verify -CAfile "$dir/ca.pem" "$dir/server.pem" >/dev/null
if openssl verify -CAfile "$dir/ca.pem" "$dir/expired.pem" >/dev/null 2>&1; then
  echo "make_test_ca.sh: expired.pem unexpectedly verifies at $now" >&2
  exit 1
fi
if openssl verify -CAfile "$dir/ca.pem" "$dir/wrong-ca.pem" >/dev/null 2>&1; then
  echo "make_test_ca.sh: wrong-ca.pem unexpectedly verifies against ca.pem" >&2
  exit 1
fi
echo "make_test_ca.sh: wrote CA and certificates to $dir"
