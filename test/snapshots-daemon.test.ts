// Event snapshots through the real daemon on the demo video (real GStreamer JPEG branch,
// onnxruntime, SQLite, Mosquitto, HTTP): with snapshots enabled an event's JPEG is stored, served
// at the configured width, published retained as binary on <base>/<camera>/snapshot and announced
// as a Home Assistant image; restarted with snapshots disabled, the stored snapshots are still
// served, new events say snapshot: false, no JPEG is encoded until someone asks for the live one,
// and the retained snapshot and the image entity are removed; a SIGHUP enabling them brings both back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DaemonProcess } from './support/daemon-process.js';
import { jpegInfo, jpegRgb } from './support/jpeg.js';
import { missingBrokerTools, startMosquitto, subscriber } from './support/mosquitto.js';
import { tempDir } from './support/temp-dir.js';

const DEMO = resolve('models/demo/actions-demo.mp4'); // 320x240
const skip = missingBrokerTools();

function config(dir: string, mqttUrl: string, snapshots: boolean): string {
  const file = join(dir, 'msta-edge.yaml');
  writeFileSync(
    file,
    [
      'cameras:',
      '  - id: demo',
      `    url: file://${DEMO}`,
      '    loop: true',
      '    snapshots:',
      `      enabled: ${snapshots}`,
      '      width: 160',
      'model:',
      `  bundle: ${resolve('models/synthetic-actions')}`,
      '  providers: [cpu]',
      'labels:',
      '  background: nothing happening',
      'recognition:',
      '  stride: 2',
      'mqtt:',
      `  url: ${mqttUrl}`,
      '  homeassistant:',
      '    enabled: true',
      'http:',
      '  listen: 127.0.0.1:0',
      'logging:',
      '  format: json',
      '',
    ].join('\n'),
  );
  return file;
}

interface EventDoc {
  id: string;
  label: string;
  started_at: string;
  ended_at: string | null;
  snapshot: boolean;
  snapshot_url: string | null;
}

const events = async (base: string) => ((await (await fetch(`${base}/api/events?camera=demo&limit=1000`)).json()) as { events: EventDoc[] }).events;

async function until<T>(what: string, timeoutMs: number, get: () => Promise<T | undefined>, daemon: DaemonProcess): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > end || daemon.child.exitCode !== null) throw new Error(`${what}: not within ${timeoutMs} ms\n${daemon.raw.slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function snapshotsEncoded(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  return Number(/^msta_source_snapshots_total\{camera="demo"\} (\d+)/m.exec(text)?.[1] ?? NaN);
}

test('snapshots: stored, served at 160 px, retained binary on MQTT, a Home Assistant image; disabled after a restart: kept, none new, none encoded, retained ones removed', { skip, timeout: 240_000 }, async () => {
  const broker = await startMosquitto();
  const dir = tempDir('msta-snapshots-');
  const sub = await subscriber(broker.url, ['msta/demo/snapshot', 'msta/demo/events', 'homeassistant/image/#']);
  let kept: EventDoc;
  const first = DaemonProcess.start(['--config', config(dir, broker.url, true)]);
  try {
    const base = `http://${await first.httpAddress()}`;
    // An occurrence with a stored snapshot, once its end is written.
    kept = await until('an ended event with a snapshot', 150_000, async () => (await events(base)).find((e) => e.ended_at !== null && e.snapshot), first);
    const served = await fetch(`${base}${kept.snapshot_url}`);
    assert.equal(served.status, 200);
    assert.equal(served.headers.get('content-type'), 'image/jpeg');
    const storedBytes = Buffer.from(await served.arrayBuffer());
    const stored = jpegInfo(storedBytes);
    assert.deepEqual([stored.sof, stored.width, stored.height], [0xc0, 160, 120], 'baseline JPEG, 160 wide, the demo\'s 4:3');
    // It shows the action: the demo's actions are a red or a blue ball on grey, so the picture of
    // one has pixels of its ball's colour (and the other colour's ball is not in it).
    const px = jpegRgb(storedBytes);
    const count = (colour: 'red' | 'blue') => {
      let n = 0;
      for (let i = 0; i + 2 < px.length; i += 3) {
        const [r, g, b] = [px[i]!, px[i + 1]!, px[i + 2]!];
        if (colour === 'red' ? r > 150 && g < 90 && b < 90 : b > 150 && r < 90 && g < 90) n++;
      }
      return n;
    };
    const colour = kept.label.startsWith('red') ? 'red' : 'blue';
    assert.ok(count(colour) >= 20, `the snapshot of "${kept.label}" shows a ${colour} ball: ${count(colour)} ${colour} pixels (the other: ${count(colour === 'red' ? 'blue' : 'red')})`);

    // MQTT: the event says so; the JPEG itself, retained and binary.
    const msgs = sub.on('msta/demo/events').map((m) => JSON.parse(m.payload) as { id: string; type: string; snapshot: boolean });
    assert.ok(msgs.filter((m) => m.id === kept.id).every((m) => m.snapshot), 'each message of the occurrence says snapshot: true');
    const retained = await sub.waitFor((m) => m.topic === 'msta/demo/snapshot', 10_000, 'the snapshot');
    const published = jpegInfo(retained.bytes);
    assert.deepEqual([published.width, published.height], [160, 120]);
    const late = await subscriber(broker.url, ['msta/demo/snapshot']);
    try {
      const again = await late.waitFor((m) => m.topic === 'msta/demo/snapshot', 10_000, 'the retained snapshot');
      assert.equal(again.retain, true, 'retained: a client arriving later gets it');
      assert.ok(again.bytes.equals(sub.on('msta/demo/snapshot').at(-1)!.bytes) || jpegInfo(again.bytes).width === 160);
    } finally {
      await late.close();
    }
    const image = await sub.waitFor((m) => m.topic === 'homeassistant/image/msta/demo_snapshot/config' && m.payload !== '', 10_000, 'the image entity');
    const entity = JSON.parse(image.payload) as Record<string, unknown>;
    assert.equal(entity.image_topic, 'msta/demo/snapshot');
    assert.equal(entity.content_type, 'image/jpeg');
    assert.equal(entity.unique_id, 'msta-edge_msta_demo_snapshot');

    // The live JPEG, newest.
    const latest = await fetch(`${base}/api/cameras/demo/latest.jpg`);
    assert.equal(latest.status, 200);
    assert.equal(jpegInfo(Buffer.from(await latest.arrayBuffer())).width, 160);
    first.child.kill('SIGTERM');
    assert.equal((await first.exited).code, 0, first.raw.slice(-2000));
  } finally {
    await first.stop('SIGKILL');
  }

  sub.messages.length = 0;
  const second = DaemonProcess.start(['--config', config(dir, broker.url, false)]);
  try {
    const base = `http://${await second.httpAddress()}`;
    // Queried back from the database after the restart: still with its snapshot.
    const again = (await events(base)).find((e) => e.id === kept.id);
    assert.ok(again?.snapshot, 'the stored snapshot survived the restart');
    const served = await fetch(`${base}${again.snapshot_url}`);
    assert.equal(served.status, 200);
    assert.equal(jpegInfo(Buffer.from(await served.arrayBuffer())).width, 160);
    const before = new Set((await events(base)).map((e) => e.id));
    const fresh = await until('a new ended event', 150_000, async () => (await events(base)).find((e) => !before.has(e.id) && e.ended_at !== null), second);
    assert.equal(fresh.snapshot, false);
    assert.ok(sub.on('msta/demo/events').every((m) => (JSON.parse(m.payload) as { snapshot: boolean }).snapshot === false), 'no event says snapshot: true');
    assert.equal(await snapshotsEncoded(base), 0, 'no JPEG encoded: nobody watched and snapshots are disabled');
    // The retained snapshot and the image entity left over from the first run are cleared.
    await sub.waitFor((m) => m.topic === 'msta/demo/snapshot' && m.bytes.length === 0, 10_000, 'the retained snapshot cleared');
    await sub.waitFor((m) => m.topic === 'homeassistant/image/msta/demo_snapshot/config' && m.payload === '', 10_000, 'the image entity removed');
    // Someone watching live: JPEGs are encoded while asked for, and still neither kept nor published.
    const watched = await until('a live JPEG', 20_000, async () => {
      const r = await fetch(`${base}/api/cameras/demo/latest.jpg`);
      return r.status === 200 ? Buffer.from(await r.arrayBuffer()) : (await r.arrayBuffer(), undefined);
    }, second);
    assert.equal(jpegInfo(watched).width, 160);
    assert.ok((await snapshotsEncoded(base)) > 0, 'encoded while watched');
    const retainedNow = sub.on('msta/demo/snapshot');
    assert.ok(retainedNow.every((m) => m.bytes.length === 0), 'a live JPEG is never published');

    // SIGHUP with snapshots enabled again: the camera restarts with them, the image entity is back,
    // and a new occurrence gets its snapshot.
    config(dir, broker.url, true);
    sub.messages.length = 0;
    second.child.kill('SIGHUP');
    await second.waitForLine((l) => l.msg === 'config reloaded', 30_000, 'the reload');
    await sub.waitFor((m) => m.topic === 'homeassistant/image/msta/demo_snapshot/config' && m.payload !== '', 10_000, 'the image entity announced again');
    const snapped = await sub.waitFor((m) => m.topic === 'msta/demo/events' && (JSON.parse(m.payload) as { snapshot: boolean }).snapshot, 120_000, 'an event with a snapshot after the reload');
    await sub.waitFor((m) => m.topic === 'msta/demo/snapshot' && m.bytes.length > 0, 10_000, 'the retained snapshot after the reload');
    assert.equal((JSON.parse(snapped.payload) as { camera: string }).camera, 'demo');
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0, second.raw.slice(-2000));
  } finally {
    await second.stop('SIGKILL');
    await sub.close();
    await broker.dispose();
  }
});
