#!/usr/bin/env bash
# Starts one Apache Kafka node (KRaft, broker + controller) whose clients connect over SASL_SSL with
# SCRAM-SHA-512, from the files deploy/make-secrets.sh creates. The compose file runs it in the
# apache/kafka image; the security tests run it on the local jars (test/support/secure-kafka.ts).
#
# Passwords stay in the secret files: the broker reads them through Kafka's DirectoryConfigProvider
# (${dir:<secrets>:<file>}), so the rendered server.properties holds none. The SCRAM users (admin for
# the broker itself, sieve for Sieve) are created with Kafka's own tooling when the storage is
# formatted (kafka-storage format --add-scram), once.
#
# Environment (defaults for the apache/kafka image):
#   SECRETS=/run/secrets  KAFKA_LIBS=/opt/kafka/libs  KAFKA_DATA=/var/lib/kafka/data  JAVA=java
#   KAFKA_HOST=0.0.0.0  KAFKA_ADVERTISED_HOST=kafka  KAFKA_SASL_SSL_PORT=9094  KAFKA_CONTROLLER_PORT=9093
#   KAFKA_HEAP_OPTS="-Xmx512m"  KAFKA_LOG4J=<log4j2 config, optional>  SIEVE_KAFKA_USER=sieve
set -euo pipefail

SECRETS="${SECRETS:-/run/secrets}"
KAFKA_LIBS="${KAFKA_LIBS:-/opt/kafka/libs}"
KAFKA_DATA="${KAFKA_DATA:-/var/lib/kafka/data}"
JAVA="${JAVA:-java}"
HOST="${KAFKA_HOST:-0.0.0.0}"
ADVERTISED="${KAFKA_ADVERTISED_HOST:-kafka}"
PORT="${KAFKA_SASL_SSL_PORT:-9094}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
USER_NAME="${SIEVE_KAFKA_USER:-sieve}"
HEAP="${KAFKA_HEAP_OPTS:--Xmx512m}"

for f in kafka.keystore.p12 kafka.truststore.p12 kafka_store_password kafka_admin_password kafka_sieve_password; do
  [[ -s "$SECRETS/$f" ]] || { echo "secure-kafka: missing secret $SECRETS/$f (run deploy/make-secrets.sh)" >&2; exit 1; }
done
mkdir -p "$KAFKA_DATA"
CONF="$KAFKA_DATA/server.properties"
secret() { printf '${dir:%s:%s}' "$SECRETS" "$1"; }

cat > "$CONF" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$CONTROLLER_PORT
controller.listener.names=CONTROLLER
listeners=SASL_SSL://$HOST:$PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=SASL_SSL://$ADVERTISED:$PORT
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
config.providers=dir
config.providers.dir.class=org.apache.kafka.common.config.provider.DirectoryConfigProvider
sasl.enabled.mechanisms=SCRAM-SHA-512
sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="$(secret kafka_admin_password)";
ssl.keystore.type=PKCS12
ssl.keystore.location=$SECRETS/kafka.keystore.p12
ssl.keystore.password=$(secret kafka_store_password)
ssl.key.password=$(secret kafka_store_password)
ssl.truststore.type=PKCS12
ssl.truststore.location=$SECRETS/kafka.truststore.p12
ssl.truststore.password=$(secret kafka_store_password)
ssl.client.auth=none
log.dirs=$KAFKA_DATA/log
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
message.max.bytes=8388608
PROPS

JVM_LOG=()
if [[ -n "${KAFKA_LOG4J:-}" ]]; then
  JVM_LOG=("-Dlog4j2.configurationFile=$KAFKA_LOG4J" "-Dkafka.logs.dir=$KAFKA_DATA/logs")
fi
# Kafka 4 resolves config providers only when they are listed here
PROVIDERS=(-Dorg.apache.kafka.automatic.config.providers=org.apache.kafka.common.config.provider.DirectoryConfigProvider)

if [[ ! -f "$KAFKA_DATA/log/meta.properties" ]]; then
  cluster_id="-"
  while [[ "$cluster_id" == -* ]]; do cluster_id="$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"; done
  "$JAVA" -Xmx256m "${PROVIDERS[@]}" "${JVM_LOG[@]}" -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format --standalone \
    --cluster-id="$cluster_id" --config "$CONF" \
    --add-scram "SCRAM-SHA-512=[name=admin,password=$(cat "$SECRETS/kafka_admin_password")]" \
    --add-scram "SCRAM-SHA-512=[name=$USER_NAME,password=$(cat "$SECRETS/kafka_sieve_password")]" >/dev/null
  echo "secure-kafka: storage formatted (cluster $cluster_id), SCRAM-SHA-512 users admin and $USER_NAME"
fi
# shellcheck disable=SC2086
exec "$JAVA" $HEAP -XX:+UseG1GC "${PROVIDERS[@]}" "${JVM_LOG[@]}" -cp "$KAFKA_LIBS/*" kafka.Kafka "$CONF"
