// The event history through the real daemon: `msta-edge run` on the demo video (real GStreamer,
// onnxruntime, embedded broker), asked over HTTP by a real client, then restarted: the events are
// still there. A bad `events.path` fails the start; a damaged database is moved aside.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import { DaemonProcess } from './support/daemon-process.js';
import { subscriber } from './support/mosquitto.js';
import { runCliProcess } from './support/cli.js';
import { tempDir } from './support/temp-dir.js';

const DEMO = resolve('models/demo/actions-demo.mp4');
const DEMO_ACTIONS = new Set(['red ball moving right', 'blue ball moving left', 'red ball moving up', 'blue ball moving down', 'red ball growing', 'blue ball shrinking', 'red ball blinking']);

function config(dir: string, extra = ''): string {
  const file = join(dir, 'msta-edge.yaml');
  writeFileSync(
    file,
    [
      'cameras:',
      '  - id: demo',
      `    url: file://${DEMO}`,
      '    loop: true',
      'model:',
      `  bundle: ${resolve('models/synthetic-actions')}`,
      '  providers: [cpu]',
      'labels:',
      '  background: nothing happening',
      'recognition:',
      '  stride: 2',
      'http:',
      '  listen: 127.0.0.1:0',
      'logging:',
      '  format: json',
      extra,
    ].join('\n'),
  );
  return file;
}

interface EventDoc {
  id: string;
  camera: string;
  label: string;
  started_at: string;
  ended_at: string | null;
  peak_score: number;
  snapshot: boolean;
}

async function getJson<T>(url: string): Promise<{ status: number; body: T }> {
  const r = await fetch(url);
  return { status: r.status, body: (await r.json()) as T };
}

test('events recorded by the daemon are served by /api and still there after a restart', { timeout: 240_000 }, async () => {
  const dir = tempDir('msta-events-e2e-');
  const file = config(dir);
  const first = DaemonProcess.start(['--config', file]);
  let ended: string[];
  try {
    const base = `http://${await first.httpAddress()}`;
    const deadline = Date.now() + 150_000;
    while (first.events().filter((e) => e.type === 'end').length < 2) {
      if (Date.now() > deadline || first.child.exitCode !== null) throw new Error(`fewer than 2 ended events:\n${first.raw.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    ended = first.events().filter((e) => e.type === 'end').map((e) => e.id);

    // <base>/info, retained on the (embedded) broker: a client arriving now gets it.
    const brokerUrl = (await first.waitForLine((l) => l.msg.startsWith('no mqtt.url configured'))).url as string;
    const sub = await subscriber(brokerUrl, ['msta/info'], { protocolVersion: 4 });
    try {
      const info = await sub.waitFor((m) => m.topic === 'msta/info', 10_000, 'msta/info');
      assert.equal(info.retain, true);
      const payload = JSON.parse(info.payload) as { version: string; model: { name: string }; provider: string; cameras: string[] };
      const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;
      assert.deepEqual([payload.version, payload.model.name, payload.provider, payload.cameras], [version, 'synthetic-actions', 'cpu', ['demo']]);
      const validate = new Ajv({ strict: true }).compile(JSON.parse(readFileSync('docs/schemas/bridge-info.schema.json', 'utf8')) as object);
      assert.ok(validate(payload), JSON.stringify(validate.errors));
    } finally {
      await sub.close();
    }
    // Written within flush_ms of the end; poll rather than assume.
    let list: EventDoc[] = [];
    for (const until = Date.now() + 10_000; Date.now() < until; await new Promise((r) => setTimeout(r, 100))) {
      list = (await getJson<{ events: EventDoc[] }>(`${base}/api/events?camera=demo`)).body.events;
      if (ended.every((id) => list.find((e) => e.id === id)?.ended_at)) break;
    }
    for (const id of ended) {
      const e = list.find((x) => x.id === id);
      assert.ok(e, `ended event ${id} is in /api/events`);
      assert.ok(DEMO_ACTIONS.has(e.label), `"${e.label}" is an action of the demo`);
      assert.ok(e.ended_at !== null && Date.parse(e.ended_at) > Date.parse(e.started_at));
      assert.ok(e.peak_score > 0 && e.peak_score <= 1);
      assert.equal(e.snapshot, false);
    }
    const started = list.map((e) => Date.parse(e.started_at));
    assert.deepEqual(started, [...started].sort((a, b) => b - a), 'newest first');
    assert.equal(new Set(list.map((e) => e.id)).size, list.length, 'one document per occurrence');
    const one = await getJson<EventDoc>(`${base}/api/events/${ended[0]}`);
    assert.equal(one.status, 200);
    assert.equal(one.body.id, ended[0]);
    assert.equal((await fetch(`${base}/api/events/${ended[0]}/snapshot.jpg`)).status, 404);
    const label = list[0]!.label;
    const byLabel = (await getJson<{ events: EventDoc[] }>(`${base}/api/events?label=${encodeURIComponent(label)}`)).body.events;
    assert.ok(byLabel.length >= 1 && byLabel.every((e) => e.label === label));
    const bad = await getJson<{ parameter: string }>(`${base}/api/events?limit=zero`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.parameter, 'limit');
    const cameras = await getJson<{ cameras: { id: string; state: string }[] }>(`${base}/api/cameras`);
    assert.deepEqual(cameras.body.cameras.map((c) => [c.id, c.state]), [['demo', 'streaming']]);
    const ready = await getJson<{ checks: Record<string, { ok: boolean }> }>(`${base}/readyz`);
    assert.equal(ready.body.checks.events?.ok, true);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    assert.match(metrics, /^msta_event_store_writes_total [1-9]/m);
    assert.match(metrics, /^msta_event_store_failures_total\{op="write"\} 0$/m);
    assert.match(metrics, /^msta_build_info\{version="\d+\.\d+\.\d+[^"]*",node="v\d+[^"]*"\} 1$/m);

    first.child.kill('SIGTERM');
    assert.equal((await first.exited).code, 0, first.raw.slice(-2000));
  } finally {
    await first.stop('SIGKILL');
  }

  const second = DaemonProcess.start(['--config', file]);
  try {
    const base = `http://${await second.httpAddress()}`;
    const list = (await getJson<{ events: EventDoc[] }>(`${base}/api/events?limit=1000`)).body.events;
    for (const id of ended) assert.ok(list.find((e) => e.id === id)?.ended_at, `event ${id} survived the restart`);
    // Stopped in order: nothing was left open for the next run to close.
    assert.ok(!second.lines.some((l) => l.msg.includes('left open by the previous run')));
    // SIGTERM: a SIGKILLed daemon would leave its source child behind.
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0, second.raw.slice(-2000));
  } finally {
    await second.stop('SIGKILL');
  }
});

test('a bad events.path exits 2 naming it; a damaged database is moved aside and the daemon runs with a new history', { timeout: 90_000 }, async () => {
  const dir = tempDir('msta-events-e2e-');
  writeFileSync(join(dir, 'a-file'), 'x');
  const badPath = await runCliProcess(['run', '--config', config(dir, 'events:\n  path: a-file/events.db\n')]);
  assert.equal(badPath.code, 2, badPath.stderr);
  assert.match(badPath.stderr, /CONFIG_INVALID: [\s\S]*events\.path: .*a-file is not a directory/);
  assert.doesNotMatch(badPath.stderr, /\n\s+at /, 'no stack trace');

  writeFileSync(join(dir, 'damaged.db'), Buffer.alloc(8192, 0x5a));
  const daemon = DaemonProcess.start(['--config', config(dir, 'events:\n  path: damaged.db\n')]);
  try {
    const base = `http://${await daemon.httpAddress()}`;
    const moved = await daemon.waitForLine((l) => l.msg.startsWith('event history: the database was damaged'));
    assert.match(String(moved.moved_to), /damaged\.db\.corrupt\./);
    assert.ok(readdirSync(dir).some((f) => f.startsWith('damaged.db.corrupt.')), 'the damaged file is kept');
    const ready = await getJson<{ checks: Record<string, { ok: boolean }> }>(`${base}/readyz`);
    assert.equal(ready.body.checks.events?.ok, true, 'the new history works');
    assert.match(await (await fetch(`${base}/metrics`)).text(), /^msta_event_store_failures_total\{op="open"\} 1$/m);
    daemon.child.kill('SIGTERM');
    assert.equal((await daemon.exited).code, 0, daemon.raw.slice(-2000));
  } finally {
    await daemon.stop('SIGKILL');
  }
});
