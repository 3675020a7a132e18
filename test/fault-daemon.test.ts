// Faults through the real daemon (gst-rtsp-server, GStreamer children, onnxruntime, the embedded
// broker, a real HTTP client, a real notify socket): an RTSP server killed and restarted 20
// times; a camera that cannot work, and a missing V4L2 device, in /healthz, /readyz
// and the systemd watchdog.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DaemonProcess } from './support/daemon-process.js';
import { listenNotifySocket } from './support/notify-socket.js';
import { RtspServer } from './support/rtsp-server.js';
import { tempDir } from './support/temp-dir.js';

interface Check {
  ok: boolean;
  checks: Record<string, { ok: boolean; detail?: string }>;
}

function config(body: string): string {
  const dir = tempDir('msta-fault-');
  const file = join(dir, 'msta-edge.yaml');
  writeFileSync(file, `model:\n  bundle: ${resolve('models/synthetic-actions')}\n  providers: [cpu]\nhttp:\n  listen: 127.0.0.1:0\nlogging:\n  format: json\n  level: debug\n${body}`);
  return file;
}

async function until<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function get(address: string, path: string): Promise<{ status: number; body: Check }> {
  const r = await fetch(`http://${address}${path}`);
  return { status: r.status, body: (await r.json()) as Check };
}

async function metrics(address: string): Promise<string> {
  return (await fetch(`http://${address}/metrics`)).text();
}

const sample = (text: string, name: string): number | undefined => {
  const m = new RegExp(`^${name.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

test('RTSP server killed and restarted 20 times: the camera resumes every time, each reconnect counted in /metrics, /healthz 200 throughout (the freeze: test/source-rtsp.test.ts)', { timeout: 150_000 }, async () => {
  const server = await RtspServer.start({ width: 160, height: 120, fps: 15 });
  const daemon = DaemonProcess.start([
    '--config',
    config(`cameras:\n  - id: yard\n    url: ${server.url('test')}\nsource:\n  stall_timeout_s: 2\n  reconnect_initial_ms: 100\n  reconnect_max_ms: 400\n`),
  ]);
  try {
    const address = await daemon.httpAddress();
    const up = async () => sample(await metrics(address), 'msta_source_up{camera="yard"}');
    const frames = async () => sample(await metrics(address), 'msta_source_frames_total{camera="yard"}') ?? 0;
    await until(async () => ((await up()) === 1 ? true : undefined), 60_000, 'streaming');
    assert.equal((await get(address, '/healthz')).status, 200);

    for (let i = 1; i <= 20; i++) {
      await server.kill();
      await until(async () => ((await up()) === 0 ? true : undefined), 10_000, `camera down after kill ${i}`);
      const health = await get(address, '/healthz');
      assert.equal(health.status, 200, `kill ${i}: reconnecting is not dead: ${JSON.stringify(health.body)}`);
      await server.restart();
      const before = await frames();
      await until(async () => ((await up()) === 1 && (await frames()) > before ? true : undefined), 15_000, `frames again after restart ${i}`);
    }
    const text = await metrics(address);
    const reconnects = sample(text, 'msta_source_reconnects_total{camera="yard"}')!;
    const logged = daemon.lines.filter((l) => l.msg === 'camera connecting' && l.camera === 'yard' && (l.reconnects as number) > 0).length;
    assert.ok(reconnects >= 20, `reconnects ${reconnects}`);
    assert.equal(reconnects, logged, 'every reconnect counted once');

  } finally {
    await daemon.stop();
    await server.stop();
  }
});

test('a camera whose supervisor gave up fails /healthz with the reason, and the watchdog stops pinging; a missing V4L2 device shows GStreamer\'s error', { timeout: 90_000 }, async () => {
  const socketPath = join(tempDir('msta-notify-'), 'notify.sock');
  const notify = await listenNotifySocket(socketPath);
  const daemon = DaemonProcess.start(
    [
      '--config',
      config(
        [
          'cameras:',
          '  - id: good',
          '    url: test://ball',
          // An uninstalled decoder: SOURCE_UNSUPPORTED, never retried; the camera is dead.
          '  - id: broken',
          '    url: rtsp://127.0.0.1:9/x',
          '    decoder: nosuchdec',
          '  - id: usb',
          '    url: v4l2:///dev/video99',
          'source:',
          '  reconnect_initial_ms: 200',
          '',
        ].join('\n'),
      ),
    ],
    { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '200000' },
  );
  try {
    const address = await daemon.httpAddress();
    const health = await until(async () => {
      const h = await get(address, '/healthz');
      return h.status === 503 && h.body.checks['camera:broken'] ? h : undefined;
    }, 60_000, '/healthz failing');
    assert.equal(health.body.ok, false);
    assert.equal(health.body.checks['camera:broken']!.ok, false);
    assert.match(health.body.checks['camera:broken']!.detail!, /^dead: .*nosuchdec/);
    assert.equal(health.body.checks['camera:good']!.ok, true, JSON.stringify(health.body));
    assert.equal(health.body.checks.event_loop!.ok, true);
    assert.equal(health.body.checks.model!.ok, true);

    // The missing device: GStreamer's own words, in the log and in the camera's state; retried, so alive.
    const retry = await daemon.waitForLine((l) => l.msg === 'camera reconnecting' && l.camera === 'usb', 30_000, 'usb retry');
    assert.match(retry.reason as string, /Cannot identify device '\/dev\/video99'/);
    const usb = await until(async () => {
      const c = (await get(address, '/healthz')).body.checks['camera:usb'];
      return c && /video99/.test(c.detail ?? '') ? c : undefined;
    }, 10_000, 'usb detail');
    assert.equal(usb.ok, true, 'a camera in reconnect backoff is alive');

    // /readyz: per-camera state and recognition.
    const ready = await get(address, '/readyz');
    assert.match(ready.body.checks['camera:good']!.detail!, /^streaming, recognition (idle|recognizing)$/);
    assert.match(ready.body.checks['camera:broken']!.detail!, /recognition failed: .*nosuchdec/);

    // The watchdog: READY, then no WATCHDOG=1 while unhealthy, and STATUS= says why.
    await until(async () => (notify.messages.some((m) => m.startsWith('STATUS=unhealthy: ') && m.includes('camera:broken')) ? true : undefined), 10_000, 'unhealthy STATUS');
    assert.ok(notify.messages.some((m) => m.startsWith('READY=1')));
    const pings = notify.messages.filter((m) => m === 'WATCHDOG=1').length;
    await new Promise((r) => setTimeout(r, 1000)); // 10 watchdog periods
    assert.equal(notify.messages.filter((m) => m === 'WATCHDOG=1').length, pings, 'no WATCHDOG=1 while unhealthy');
  } finally {
    await daemon.stop();
    await notify.stop();
  }
});
