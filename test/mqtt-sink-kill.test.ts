// The sink in a child process, killed for real: the broker's last will, and the spool surviving a
// SIGKILL during a broker outage, delivered first (in order) by the next process.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { ActionEvent } from '../src/types.js';
import { missingBrokerTools, startMosquitto, subscriber } from './support/mosquitto.js';
import { tempDir } from './support/temp-dir.js';

const skip = missingBrokerTools();
const tmp = tempDir('msta-sink-kill-');
after(() => rmSync(tmp, { recursive: true, force: true }));

// The child: a sink that spools every JSON event line from stdin, says `spooled <id>` once it is
// on disk, and closes cleanly on SIGTERM.
const CHILD = `
import { createInterface } from 'node:readline';
import { Registry } from 'prom-client';
import { createMqttSink } from './src/sink/mqtt-sink.ts';
const log = { info: (m) => process.stderr.write(m + '\\n'), warn: (m) => process.stderr.write(m + '\\n'), error: (m) => process.stderr.write(m + '\\n') };
const sink = createMqttSink({ url: process.env.SINK_URL, cameras: ['cam1'], spool: { dir: process.env.SPOOL_DIR },
  registry: new Registry(), log, reconnectPeriodMs: 100 });
await sink.start();
process.on('SIGTERM', () => { void sink.close(2000).then(() => process.exit(0)); });
process.stdout.write('started\\n');
for await (const line of createInterface({ input: process.stdin })) {
  const event = JSON.parse(line);
  await sink.publishEvent(event);
  process.stdout.write('spooled ' + event.id + '\\n');
}
`;

interface SinkProcess {
  child: ChildProcess;
  send(event: ActionEvent): Promise<void>;
  exited: Promise<void>;
}

async function runSink(url: string, spoolDir: string): Promise<SinkProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], {
    env: { ...process.env, SINK_URL: url, SPOOL_DIR: spoolDir },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const waiting = new Map<string, () => void>();
  let started!: () => void;
  const ready = new Promise<void>((resolve) => (started = resolve));
  lines.on('line', (line) => {
    if (line === 'started') started();
    waiting.get(line)?.();
  });
  const timeout = <T>(p: Promise<T>, what: string): Promise<T> =>
    Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`child: no ${what}; stderr:\n${stderr}`)), 15_000))]);
  await timeout(Promise.race([ready, exited.then(() => Promise.reject(new Error(`child exited:\n${stderr}`)))]), 'start');
  return {
    child,
    exited,
    send: (event) => {
      const done = new Promise<void>((resolve) => waiting.set(`spooled ${event.id}`, resolve));
      child.stdin!.write(`${JSON.stringify(event)}\n`);
      return timeout(done, `spooled ${event.id}`);
    },
  };
}

function event(n: number): ActionEvent {
  const at = Date.UTC(2026, 0, 1) + n * 1000;
  return {
    id: `evt-${n}`,
    type: n === 0 ? 'start' : 'update',
    camera: 'cam1', region: null,
    label: 'falling',
    score: 0.7,
    topScore: 0.7,
    startedAt: at,
    endedAt: null,
    clip: { firstFrameAt: at, lastFrameAt: at, frames: 8, inferenceSeconds: 0.005 },
    top: [{ label: 'falling', score: 0.7 }],
    model: { name: 'm', sha256: '0'.repeat(64) }, snapshot: false,
  };
}

async function kill(p: SinkProcess): Promise<void> {
  p.child.kill('SIGKILL');
  await p.exited;
}

test('a sink process killed with SIGKILL leaves `offline` (the last will) retained', { skip }, async () => {
  const broker = await startMosquitto();
  const sub = await subscriber(broker.url, ['msta/status']);
  const sink = await runSink(broker.url, join(tmp, 'will'));
  try {
    await sub.waitFor((m) => m.payload === 'online', 10_000, 'online');
    await kill(sink);
    await sub.waitFor((m) => m.payload === 'offline', 5000, 'the last will');
    const late = await subscriber(broker.url, ['msta/status']);
    const retained = await late.waitFor(() => true, 5000, 'retained status');
    await late.close();
    assert.deepEqual([retained.payload, retained.retain], ['offline', true]);
  } finally {
    await kill(sink);
    await sub.close();
    await broker.dispose();
  }
});

test('SIGTERM: the sink process publishes offline itself and exits', { skip }, async () => {
  const broker = await startMosquitto();
  const sub = await subscriber(broker.url, ['msta/status']);
  const sink = await runSink(broker.url, join(tmp, 'term'));
  try {
    await sub.waitFor((m) => m.payload === 'online', 10_000, 'online');
    sink.child.kill('SIGTERM');
    await sink.exited;
    assert.equal(sink.child.exitCode, 0);
    await sub.waitFor((m) => m.payload === 'offline', 5000, 'offline');
  } finally {
    await kill(sink);
    await sub.close();
    await broker.dispose();
  }
});

test('events spooled during an outage survive SIGKILL; the next process delivers them first, in order', { skip }, async () => {
  const broker = await startMosquitto({ persistence: true });
  const sub = await subscriber(broker.url, ['msta/cam1/events'], { protocolVersion: 4, clean: false, clientId: 'kill-watcher' });
  const spool = join(tmp, 'outage');
  const first = await runSink(broker.url, spool);
  let second: SinkProcess | undefined;
  try {
    await first.send(event(0));
    await sub.waitFor((m) => m.payload.includes('"evt-0"'), 10_000, 'evt-0 before the outage');
    await broker.stop();
    for (let n = 1; n <= 5; n++) await first.send(event(n));
    await kill(first);

    second = await runSink(broker.url, spool);
    for (let n = 6; n <= 8; n++) await second.send(event(n));
    await broker.start();
    await sub.waitFor((m) => m.payload.includes('"evt-8"'), 15_000, 'evt-8');
    const got = [...new Set(sub.messages.map((m) => (JSON.parse(m.payload) as { id: string }).id))];
    assert.deepEqual(got, Array.from({ length: 9 }, (_, n) => `evt-${n}`));
  } finally {
    await kill(first);
    if (second) await kill(second);
    await sub.close();
    await broker.dispose();
  }
});
