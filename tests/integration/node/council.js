// A council's Node.js client (kafkajs) for the integration tests.
//   node council.js produce <bootstrap> <binary|structured> <event.json>
//     sends the CloudEvent in the given mode, keyed by its subject, and prints the
//     partition it landed on;
//   node council.js consume <bootstrap> <topic> <type> <need_id>
//     reads the topic from the beginning until a structured-mode event of <type> whose
//     data.child_ref is <child_ref> arrives, and prints its headers and event.
"use strict";
const { Kafka, logLevel } = require("kafkajs");

function client(bootstrap) {
  return new Kafka({ clientId: "council-node", brokers: [bootstrap], logLevel: logLevel.NOTHING });
}

async function produce(bootstrap, mode, eventFile) {
  const event = JSON.parse(require("fs").readFileSync(eventFile, "utf8"));
  let headers, value;
  if (mode === "structured") {
    headers = { "content-type": "application/cloudevents+json" };
    value = JSON.stringify(event);
  } else {
    headers = { "content-type": "application/json" };
    for (const [name, attr] of Object.entries(event)) {
      if (name !== "data" && name !== "datacontenttype") headers[`ce_${name}`] = String(attr);
    }
    value = JSON.stringify(event.data);
  }
  // kafkajs' default partitioner is Java's murmur2: nothing to set.
  const producer = client(bootstrap).producer();
  await producer.connect();
  const [meta] = await producer.send({
    topic: "ehc.plans.v1",
    acks: -1,
    messages: [{ key: event.subject, value, headers }],
  });
  await producer.disconnect();
  process.stdout.write(JSON.stringify({ partition: meta.partition }) + "\n");
}

async function consume(bootstrap, topic, type, needId) {
  const consumer = client(bootstrap).consumer({ groupId: `council-node-${needId}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const found = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} with need id ${needId}`)), 45000);
    consumer.run({
      eachMessage: async ({ message }) => {
        const headers = Object.fromEntries(
          Object.entries(message.headers || {}).map(([k, v]) => [k, v.toString()]),
        );
        if (headers["content-type"] !== "application/cloudevents+json") return;
        const event = JSON.parse(message.value.toString());
        if (event.type === type && event.data && event.data.need_id === needId) {
          clearTimeout(timer);
          resolve({ headers, key: message.key.toString(), event });
        }
      },
    });
  });
  await consumer.disconnect();
  process.stdout.write(JSON.stringify(found) + "\n");
}

const [command, ...args] = process.argv.slice(2);
const run = command === "produce" ? produce : consume;
run(...args).then(
  () => process.exit(0),
  (error) => {
    process.stderr.write(String(error && error.stack ? error.stack : error) + "\n");
    process.exit(1);
  },
);
