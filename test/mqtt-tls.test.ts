// TLS (CA, client certificate and key) and user name / password against a real Mosquitto with a
// TLS listener and a password file; certificates made here with openssl.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { isMstaError } from '../src/errors.js';
import { createMqttSink, type MqttSinkOptions } from '../src/sink/mqtt-sink.js';
import {
  makePasswordFile,
  makeTestPki,
  missingBrokerTools,
  startMosquitto,
  subscriber,
  type Mosquitto,
  type TestPki,
} from './support/mosquitto.js';
import { tempDir } from './support/temp-dir.js';

const skip = missingBrokerTools();
const tmp = tempDir('msta-tls-');
after(() => rmSync(tmp, { recursive: true, force: true }));

const USER = 'msta';
const PASSWORD = 'pa55-Secret-7f3a';
const WRONG = 'wrong-Secret-91bc';

let pki: TestPki;
let broker: Mosquitto;
before(async () => {
  if (skip) return;
  pki = makeTestPki(tmp);
  const passwd = join(tmp, 'passwd');
  makePasswordFile(passwd, USER, PASSWORD);
  broker = await startMosquitto({ tls: { ca: pki.ca, cert: pki.serverCert, key: pki.serverKey }, passwordFile: passwd });
});
after(async () => broker?.dispose());

let n = 0;
function makeSink(extra: Partial<MqttSinkOptions>) {
  const logs: string[] = [];
  const sink = createMqttSink({
    url: broker.url,
    cameras: ['cam1'],
    spool: { dir: join(tmp, `spool-${n++}`) },
    registry: new Registry(),
    log: { info: (m) => logs.push(m), warn: (m) => logs.push(m), error: (m) => logs.push(m) },
    reconnectPeriodMs: 100,
    tls: { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey },
    username: USER,
    password: PASSWORD,
    ...extra,
  });
  return { sink, logs };
}

test('TLS with CA, client certificate and password: status and events go through', { skip }, async () => {
  const files = { ca: readFileSync(pki.ca), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) };
  const sub = await subscriber(broker.url, ['msta/#'], { ...files, username: USER, password: PASSWORD });
  const { sink } = makeSink({});
  try {
    await sink.start();
    await sink.whenConnected(5000);
    sink.publishStatus({ camera: 'cam1', state: 'streaming', since: 0, reconnects: 0 });
    await sub.waitFor((m) => m.topic === 'msta/status' && m.payload === 'online', 5000, 'online over TLS');
    await sub.waitFor((m) => m.topic === 'msta/cam1/status', 5000, 'camera status over TLS');
    const at = Date.now();
    await sink.publishEvent({
      id: 'tls-1', type: 'start', camera: 'cam1', region: null, label: 'waving', score: 0.9, topScore: 0.9, startedAt: at, endedAt: null,
      clip: { firstFrameAt: at, lastFrameAt: at, frames: 8, inferenceSeconds: 0.005 }, top: [{ label: 'waving', score: 0.9 }], model: { name: 'm', sha256: 'f'.repeat(64) }, snapshot: false,
    });
    const got = await sub.waitFor((m) => m.topic === 'msta/cam1/events', 5000, 'event over TLS');
    assert.equal((JSON.parse(got.payload) as { id: string }).id, 'tls-1');
  } finally {
    await sink.close(1000);
    await sub.close();
  }
});

for (const protocolVersion of [5, 4] as const) {
  test(`MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}: a wrong password is a clear error that carries no password`, { skip }, async () => {
    // 3.1.1 variant: credentials in the URL, which must come out redacted.
    const extra: Partial<MqttSinkOptions> =
      protocolVersion === 5
        ? { protocolVersion, password: WRONG }
        : { protocolVersion, url: broker.url.replace('mqtts://', `mqtts://${USER}:${WRONG}@`), username: undefined, password: undefined };
    const { sink, logs } = makeSink(extra);
    try {
      await sink.start();
      const err = await sink.whenConnected(1000).then(
        () => assert.fail('connected with a wrong password'),
        (e: unknown) => e,
      );
      assert.ok(isMstaError(err, 'MQTT_FAILED'), String(err));
      assert.match(err.message, /Connection refused: (Not authorized|Bad User ?Name or Password)/i);
      assert.match(err.message, /check mqtt\.username and mqtt\.password/);
      if (protocolVersion === 4) assert.ok(err.message.startsWith(`mqtts://${USER}:***@localhost:`), err.message);
      const everything = [err.message, err.stack ?? '', ...logs].join('\n');
      assert.ok(logs.length > 0, 'the failure is logged');
      for (const secret of [WRONG, PASSWORD]) assert.equal(everything.includes(secret), false, `"${secret}" leaked:\n${everything}`);
      assert.equal(logs.filter((l) => l.includes('Connection refused')).length, 1, 'logged once, not on every retry');
    } finally {
      await sink.close(500);
    }
  });
}

test('a broker certificate from another CA is refused (certificates are verified)', { skip }, async () => {
  const otherDir = join(tmp, 'other-ca');
  mkdirSync(otherDir);
  const other = makeTestPki(otherDir);
  const { sink } = makeSink({ tls: { ca: other.ca, cert: pki.clientCert, key: pki.clientKey } });
  try {
    await sink.start();
    await assert.rejects(sink.whenConnected(1000), (e: unknown) => {
      assert.ok(isMstaError(e, 'MQTT_FAILED'));
      assert.match(e.message, /TLS: check mqtt\.tls\.ca/);
      return true;
    });
  } finally {
    await sink.close(500);
  }
});

test('an unreadable TLS file fails start() with an error naming the option and the file', { skip }, async () => {
  const missing = join(tmp, 'nope.crt');
  const { sink } = makeSink({ tls: { ca: missing } });
  await assert.rejects(sink.start(), (e: unknown) => {
    assert.ok(isMstaError(e, 'MQTT_FAILED'));
    assert.equal(e.where, 'mqtt.tls.ca');
    assert.ok(e.message.includes(missing));
    return true;
  });
});

test('a URL password that is not valid percent-encoding (p%zz) is no crash, and stays out of every message', { skip }, async () => {
  const secret = 'se%zzcret';
  const { sink, logs } = makeSink({ url: broker.url.replace('mqtts://', `mqtts://${USER}:${secret}@`), username: undefined, password: undefined });
  try {
    await sink.start();
    const err = await sink.whenConnected(1000).then(
      () => assert.fail('connected with a wrong password'),
      (e: unknown) => e as Error,
    );
    const everything = [err.message, ...logs].join('\n');
    assert.ok(logs.length > 0, 'the failure is logged');
    assert.equal(everything.includes(secret), false, `"${secret}" leaked:\n${everything}`);
  } finally {
    await sink.close(500);
  }
});
