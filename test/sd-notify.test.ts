import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createNotifier, notifySocketPath, watchdogIntervalMs } from '../src/daemon/sd-notify.js';
import { listenNotifySocket } from './support/notify-socket.js';
import { tempDir } from './support/temp-dir.js';

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('READY, STATUS, WATCHDOG and STOPPING reach a real unix datagram socket', async () => {
  const path = join(tempDir('msta-notify-'), 'notify.sock');
  const server = await listenNotifySocket(path);
  const notifier = createNotifier({ NOTIFY_SOCKET: path, WATCHDOG_USEC: '100000', WATCHDOG_PID: String(process.pid) });
  try {
    notifier.ready('streaming 2 cameras');
    let healthy = true;
    notifier.startWatchdog(() => (healthy ? { ok: true } : { ok: false, reason: 'camera:a: dead' }));
    await until(() => server.messages.filter((m) => m === 'WATCHDOG=1').length >= 2);
    healthy = false;
    await new Promise((r) => setTimeout(r, 60));
    const pings = server.messages.filter((m) => m === 'WATCHDOG=1').length;
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(server.messages.filter((m) => m === 'WATCHDOG=1').length, pings, 'no pings while unhealthy');
    assert.ok(server.messages.includes('STATUS=unhealthy: camera:a: dead'), 'says why, once');
    assert.equal(server.messages.filter((m) => m.startsWith('STATUS=unhealthy')).length, 1);
    healthy = true;
    await until(() => server.messages.includes('WATCHDOG=1|STATUS=healthy again'));
    notifier.stopping();
    await until(() => server.messages.includes('STOPPING=1'));
    assert.equal(server.messages[0], `READY=1|MAINPID=${process.pid}|STATUS=streaming 2 cameras`);
  } finally {
    notifier.close();
    await server.stop();
  }
});

test('nothing is sent and nothing fails outside systemd', () => {
  const notifier = createNotifier({});
  notifier.ready();
  notifier.startWatchdog(() => ({ ok: true }));
  notifier.close();
  assert.equal(notifySocketPath({}), undefined);
  assert.equal(notifySocketPath({ NOTIFY_SOCKET: '@abstract' }), '\0abstract');
});

test('the watchdog pings at half of WATCHDOG_USEC, only for the process it names', () => {
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000' }, 42), 15000);
  assert.equal(watchdogIntervalMs({ WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, 42), undefined);
  assert.equal(watchdogIntervalMs({}, 42), undefined);
});
