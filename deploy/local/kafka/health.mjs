// Health probe for the local broker: a real Metadata request (kafkajs admin listTopics),
// retried until it answers or the deadline passes. Used by deploy/local/kafka.sh.
//   node deploy/local/kafka/health.mjs [brokers] [timeoutSeconds]
// Exit 0 and print "ok <topic count>" when the broker answers; exit 1 otherwise.
import { Kafka, logLevel } from "kafkajs";

const brokers = (process.argv[2] ?? "127.0.0.1:9092").split(",");
const timeoutMs = Number(process.argv[3] ?? "5") * 1000;
const deadline = Date.now() + timeoutMs;
const kafka = new Kafka({
  clientId: "sieve-kafka-health",
  brokers,
  logLevel: logLevel.NOTHING,
  connectionTimeout: 1000,
  requestTimeout: 3000,
  retry: { retries: 0 },
});

let lastError = "no attempt";
while (Date.now() < deadline) {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const topics = await admin.listTopics();
    await admin.disconnect();
    console.log(`ok ${topics.length}`);
    process.exit(0);
  } catch (err) {
    lastError = err instanceof Error ? err.message : String(err);
    await admin.disconnect().catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}
console.error(`no metadata answer from ${brokers.join(",")}: ${lastError}`);
process.exit(1);
