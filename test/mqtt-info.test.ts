// <base>/info through the real sink and Mosquitto: retained, published once connected even when
// set before, and republished after a broker restart that forgot it (no persistence).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Registry } from 'prom-client';
import { createMqttSink } from '../src/sink/mqtt-sink.js';
import { missingBrokerTools, startMosquitto, subscriber } from './support/mosquitto.js';
import { tempDir } from './support/temp-dir.js';

const skip = missingBrokerTools();
const INFO = { version: '1.2.3', model: { name: 'msta-test', sha256: 'ab'.repeat(32) }, provider: 'cpu', cameras: ['cam1', 'cam2'], regions: { cam2: ['door', 'bed'] } };

test('<base>/info is retained, sent on connect when set before, and again after a broker restart', { skip, timeout: 60_000 }, async () => {
  const tmp = tempDir('msta-info-');
  const broker = await startMosquitto();
  const sink = createMqttSink({ url: broker.url, baseTopic: 'home', cameras: ['cam1', 'cam2'], spool: { dir: tmp }, registry: new Registry(), log: { info: () => undefined, warn: () => undefined, error: () => undefined }, reconnectPeriodMs: 200 });
  try {
    await sink.start();
    sink.publishInfo(INFO);
    await sink.whenConnected(10_000);
    // A client arriving later gets it retained.
    const late = await subscriber(broker.url, ['home/info']);
    const first = await late.waitFor((m) => m.topic === 'home/info', 10_000, 'retained info');
    assert.equal(first.retain, true);
    assert.deepEqual(JSON.parse(first.payload), { v: 1, ...INFO });
    await late.close();

    await broker.kill();
    await broker.start();
    await sink.whenConnected(20_000);
    const again = await subscriber(broker.url, ['home/info']);
    const second = await again.waitFor((m) => m.topic === 'home/info', 20_000, 'info after the broker restart');
    assert.deepEqual(JSON.parse(second.payload), { v: 1, ...INFO });
    await again.close();
  } finally {
    await sink.close(1000);
    await broker.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
});
