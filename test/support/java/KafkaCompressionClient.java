// Kafka's own Java client (the jars the local broker runs from), for tests of what other clients
// write and read: run as a single-file source program, `java -cp '<kafka libs>/*' KafkaCompressionClient.java`.
//
//   produce <brokers> <file> <count> <topic>=<compression.type>...  sends the file's bytes <count> times to each
//                                                                    topic, in one batch compressed as given
//   consume <brokers> <count> <topic>...                             reads <count> records from each topic and
//                                                                    prints "<topic> <SHA-256 of the value>" per record
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public class KafkaCompressionClient {
  public static void main(String[] args) throws Exception {
    Properties props = new Properties();
    props.put("bootstrap.servers", args[1]);
    var rest = List.of(args).subList(args[0].equals("produce") ? 4 : 3, args.length);
    if (args[0].equals("produce")) {
      byte[] value = Files.readAllBytes(Path.of(args[2]));
      for (String topicCodec : rest) {
        String[] tc = topicCodec.split("=", 2);
        produce((Properties) props.clone(), tc[0], tc[1], value, Integer.parseInt(args[3]));
      }
    } else if (args[0].equals("consume")) {
      for (String topic : rest) consume((Properties) props.clone(), topic, Integer.parseInt(args[2]));
    } else throw new IllegalArgumentException("produce or consume, not " + args[0]);
  }

  static void produce(Properties props, String topic, String compression, byte[] value, int count) throws Exception {
    props.put("compression.type", compression);
    props.put("acks", "all");
    props.put("linger.ms", "1000"); // one batch: the records are compressed together
    props.put("batch.size", "4000000");
    props.put("max.block.ms", "20000"); // a missing topic fails in 20 s, not 60
    try (var producer = new KafkaProducer<byte[], byte[]>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
      var sent = new java.util.ArrayList<java.util.concurrent.Future<?>>();
      for (int i = 0; i < count; i++) sent.add(producer.send(new ProducerRecord<>(topic, 0, null, value)));
      producer.flush();
      for (var f : sent) f.get();
    }
  }

  static void consume(Properties props, String topic, int count) throws Exception {
    props.put("group.id", "java-" + topic);
    props.put("auto.offset.reset", "earliest");
    props.put("enable.auto.commit", "false");
    try (var consumer = new KafkaConsumer<byte[], byte[]>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(topic));
      int seen = 0;
      long deadline = System.currentTimeMillis() + 30_000;
      while (seen < count) {
        if (System.currentTimeMillis() > deadline) throw new IllegalStateException("read " + seen + " of " + count + " records");
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
          System.out.println(topic + " " + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(r.value())));
          seen++;
        }
      }
    }
  }
}
