// Benchmark: how long an event takes from the sink to a subscriber, through a real Mosquitto,
// with the spool on a real disk. Three paths in the same run, each repeated:
//   raw         a bare mqtt.js QoS 1 publish, no spool (the floor);
//   spool-first the record made durable (write, fsync, rename, directory fsync), then published
//               (the order before the outbox published at once);
//   sink        createMqttSink().publishEvent(): published at once, the record written meanwhile.
// Events go round-robin to --cameras cameras (each its own topic and spool records), one every
// --interval-ms in all. It measures the path after recognition (sink, spool, broker), not the
// daemon's other work (sources, inference) at that many cameras.
//   node --import tsx bench/sink-latency.ts [--events 300] [--repeats 3] [--interval-ms 5] [--cameras 8] [--dir .cache/bench-spool]
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { Registry } from 'prom-client';
import { createMqttSink } from '../src/sink/mqtt-sink.js';
import { Spool } from '../src/sink/spool.js';
import type { ActionEvent } from '../src/types.js';
import { startMosquitto } from '../test/support/mosquitto.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '300' },
    repeats: { type: 'string', default: '3' },
    'interval-ms': { type: 'string', default: '5' },
    cameras: { type: 'string', default: '8' },
    dir: { type: 'string', default: '.cache/bench-spool' },
  },
});
const EVENTS = Number(values.events);
const REPEATS = Number(values.repeats);
const INTERVAL = Number(values['interval-ms']);
const CAMERAS = Array.from({ length: Number(values.cameras) }, (_, i) => `cam${i + 1}`);

function event(n: number): ActionEvent {
  const at = Date.now();
  return {
    id: `b-${n}`, type: 'update', camera: CAMERAS[n % CAMERAS.length]!, region: null, label: 'falling down', score: 0.8, topScore: 0.8, startedAt: at, endedAt: null,
    clip: { firstFrameAt: at, lastFrameAt: at, frames: 8, inferenceSeconds: 0.005 }, top: [{ label: 'falling down', score: 0.8 }], model: { name: 'bench', sha256: '0'.repeat(64) }, snapshot: false,
  };
}

const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

const broker = await startMosquitto();
const sub = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
const arrived = new Map<string, number>();
sub.on('message', (_t, payload) => arrived.set((JSON.parse(payload.toString()) as { id: string }).id, performance.now()));
await sub.subscribeAsync('bench/+/events', { qos: 1 });

/** Sends EVENTS events through `send`, one every INTERVAL ms; returns each one's ms to arrival. */
async function run(send: (e: ActionEvent) => Promise<void> | void, tag: string): Promise<number[]> {
  arrived.clear();
  const sentAt = new Map<string, number>();
  for (let n = 0; n < EVENTS; n++) {
    const e = { ...event(n), id: `${tag}-${n}` };
    sentAt.set(e.id, performance.now());
    void send(e);
    await new Promise((r) => setTimeout(r, INTERVAL));
  }
  const deadline = Date.now() + 30_000;
  while (arrived.size < EVENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return [...sentAt].map(([id, at]) => (arrived.get(id) ?? Number.NaN) - at);
}

const log = { info: () => undefined, warn: () => undefined, error: (m: string) => process.stderr.write(`${m}\n`) };
const results: Record<string, { p50: number[]; p99: number[] }> = { raw: { p50: [], p99: [] }, 'spool-first': { p50: [], p99: [] }, sink: { p50: [], p99: [] } };

for (let r = 0; r < REPEATS; r++) {
  rmSync(values.dir, { recursive: true, force: true });
  const raw = await mqtt.connectAsync(broker.url, { protocolVersion: 5 });
  const rawTimes = await run((e) => void raw.publish(`bench/${e.camera}/events`, JSON.stringify(e), { qos: 1 }), `raw${r}`);
  const spool = await Spool.open(`${values.dir}/first`, { maxMessages: 1e6, maxBytes: 1e9 });
  const firstTimes = await run(async (e) => {
    const payload = JSON.stringify(e);
    const { seq, durable } = spool.append(payload);
    await durable;
    raw.publish(`bench/${e.camera}/events`, payload, { qos: 1 }, () => void spool.remove(seq));
  }, `first${r}`);
  await spool.close();
  await raw.endAsync();
  const sink = createMqttSink({ url: broker.url, baseTopic: 'bench', cameras: CAMERAS, spool: { dir: `${values.dir}/sink` }, registry: new Registry(), log });
  await sink.start();
  await sink.whenConnected(5000);
  const sinkTimes = await run((e) => sink.publishEvent(e), `sink${r}`);
  await sink.close(2000);
  for (const [name, times] of [['raw', rawTimes], ['spool-first', firstTimes], ['sink', sinkTimes]] as const) {
    if (times.some((t) => Number.isNaN(t))) throw new Error(`${name}: not every event arrived`);
    results[name]!.p50.push(quantile(times, 0.5));
    results[name]!.p99.push(quantile(times, 0.99));
  }
}

const fmt = (xs: number[], digits = 2): string => {
  const s = [...xs].sort((a, b) => a - b);
  return `${s[0]!.toFixed(digits)} / ${s[Math.floor(s.length / 2)]!.toFixed(digits)} / ${s.at(-1)!.toFixed(digits)}`;
};
console.log(`sink latency to a subscriber, ${EVENTS} events every ${INTERVAL} ms over ${CAMERAS.length} cameras, ${REPEATS} repeats (min / median / max over repeats, ms)`);
for (const [name, r] of Object.entries(results)) console.log(`  ${name.padEnd(12)} p50 ${fmt(r.p50)}   p99 ${fmt(r.p99)}`);
const ratio = (a: number[], b: number[]): string => fmt(a.map((x, i) => x / b[i]!), 3);
console.log(`  ratio sink / raw          p50 ${ratio(results.sink!.p50, results.raw!.p50)}   p99 ${ratio(results.sink!.p99, results.raw!.p99)}`);
console.log(`  ratio sink / spool-first  p50 ${ratio(results.sink!.p50, results['spool-first']!.p50)}   p99 ${ratio(results.sink!.p99, results['spool-first']!.p99)}`);
await sub.endAsync();
await broker.dispose();
rmSync(values.dir, { recursive: true, force: true });
