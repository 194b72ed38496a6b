#!/usr/bin/env bash
# Creates the secrets deploy/docker-compose.yml mounts (files in deploy/secrets/, or the folder given
# as $1). Existing files are kept, so running it again only fills in what is missing; delete a file
# to rotate it. Needs openssl and keytool (a JDK/JRE).
#
#   bash deploy/make-secrets.sh            # then: docker compose -f deploy/docker-compose.yml up
#
#   ca.pem / ca.key                        the deployment's CA (keep ca.key offline once done)
#   kafka.keystore.p12, kafka.truststore.p12, kafka_store_password
#                                          the broker's certificate (kafka, localhost) for SASL_SSL
#   kafka_admin_password, kafka_sieve_password
#                                          SCRAM-SHA-512 users: the broker's own, and Sieve's
#   clickhouse.crt / clickhouse.key        ClickHouse's HTTPS certificate (clickhouse, localhost)
#   clickhouse_writer_password, grafana_clickhouse_password
#   otlp.crt / otlp.key                    the receiver's OTLP certificate (HTTPS :4318, gRPC TLS :4317)
#   hash.key, api-keys.yaml                the PII hashing key and the receiver's API keys (hashes)
set -euo pipefail

DIR="${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/secrets}"
DAYS="${SIEVE_CERT_DAYS:-825}"
# extra names for the certificates, e.g. SIEVE_CERT_SANS=DNS:kafka.internal,IP:10.0.0.5
SANS="DNS:localhost,IP:127.0.0.1${SIEVE_CERT_SANS:+,$SIEVE_CERT_SANS}"
mkdir -p "$DIR"
chmod 700 "$DIR"
cd "$DIR"
umask 077

say() { echo "make-secrets: $*"; }
# a random secret without a trailing newline (Kafka's directory config provider reads files as is)
secret() { [[ -s "$1" ]] || { openssl rand -hex "${2:-24}" | tr -d '\n' > "$1"; say "created $1"; }; }

if [[ ! -s ca.pem || ! -s ca.key ]]; then
  openssl req -x509 -newkey rsa:3072 -nodes -keyout ca.key -out ca.pem -days "$DAYS" \
    -subj "/CN=Sieve deployment CA" >/dev/null 2>&1
  say "created ca.pem (the CA clients trust) and ca.key"
fi

# signed NAME CN SANS: NAME.key + NAME.crt signed by the CA
signed() {
  [[ -s "$1.crt" && -s "$1.key" ]] && return 0
  openssl req -newkey rsa:3072 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" >/dev/null 2>&1
  printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$1.crt" -days "$DAYS" \
    -extfile "$1.ext" >/dev/null 2>&1
  rm -f "$1.csr" "$1.ext"
  say "created $1.crt / $1.key"
}

# --- Kafka: PKCS12 keystore (key + chain) and truststore (the CA) ---------------------------
secret kafka_store_password
secret kafka_admin_password
secret kafka_sieve_password
signed kafka-broker kafka "DNS:kafka,$SANS"
if [[ ! -s kafka.keystore.p12 ]]; then
  openssl pkcs12 -export -in kafka-broker.crt -inkey kafka-broker.key -certfile ca.pem -name kafka \
    -out kafka.keystore.p12 -passout "file:kafka_store_password"
  say "created kafka.keystore.p12"
fi
if [[ ! -s kafka.truststore.p12 ]]; then
  keytool -importcert -noprompt -alias ca -file ca.pem -keystore kafka.truststore.p12 -storetype PKCS12 \
    -storepass "$(cat kafka_store_password)" >/dev/null
  say "created kafka.truststore.p12"
fi

# --- ClickHouse: HTTPS certificate and users' passwords --------------------------------------
signed clickhouse clickhouse "DNS:clickhouse,$SANS"
secret clickhouse_writer_password
secret grafana_clickhouse_password

# --- Sieve: OTLP certificate, PII hashing key and API keys ----------------------------------------
# clients verify it with ca.pem (OTEL_EXPORTER_OTLP_CERTIFICATE); add the receiver's public name with
# SIEVE_CERT_SANS=DNS:otlp.example.com
signed otlp sieve-receiver "DNS:sieve-receiver,$SANS"
secret hash.key 32
if [[ ! -s api-keys.yaml ]]; then
  key="$(openssl rand -hex 24)"
  printf -- '- { sha256: %s, tenant: default, name: default }\n' "$(printf %s "$key" | sha256sum | cut -d' ' -f1)" > api-keys.yaml
  say "created api-keys.yaml; the API key (shown once, only its hash is stored): $key"
fi
# the containers read the mounted files as their own (non-root) users; the folder stays 700
chmod 644 ./*
chmod 600 ca.key   # not mounted anywhere: only for signing new certificates
say "secrets ready in $DIR"
