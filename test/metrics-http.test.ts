import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { Counter } from 'prom-client';
import { createRegistry } from '../src/metrics/create-registry.js';
import { startHttpServer } from '../src/metrics/http-server.js';

test('/metrics serves the registry in a form promtool accepts; /healthz, /readyz answer JSON; the rest is 404', async () => {
  const registry = createRegistry();
  new Counter({ name: 'msta_test_things_total', help: 'things', labelNames: ['camera'], registers: [registry] }).inc({ camera: 'c1' });
  let ready = false;
  const http = await startHttpServer('127.0.0.1:0', {
    registry,
    health: () => ({ ok: true, checks: { event_loop: { ok: true } } }),
    ready: () => ({ ok: ready, checks: { model: { ok: ready, detail: ready ? 'loaded' : 'loading' } } }),
  });
  try {
    const base = `http://${http.address}`;
    const metrics = await fetch(`${base}/metrics`);
    assert.equal(metrics.status, 200);
    const text = await metrics.text();
    assert.match(text, /^msta_test_things_total\{camera="c1"\} 1$/m);
    assert.match(text, /^nodejs_eventloop_lag_p99_seconds /m);
    assert.doesNotMatch(text, /nodejs_active_handles_total/);
    const promtool = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(promtool.error, undefined, 'promtool is installed (Debian package prometheus)');
    assert.equal(promtool.status, 0, `promtool check metrics: ${promtool.stdout}${promtool.stderr}`);

    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    const notReady = await fetch(`${base}/readyz`);
    assert.equal(notReady.status, 503);
    assert.deepEqual(await notReady.json(), { ok: false, checks: { model: { ok: false, detail: 'loading' } } });
    ready = true;
    assert.equal((await fetch(`${base}/readyz`)).status, 200);
    const other = await fetch(`${base}/admin`);
    assert.equal(other.status, 404);
    assert.equal((await fetch(`${base}/metrics`, { method: 'POST' })).status, 405);
  } finally {
    await http.close();
  }
});

test('a request target that is not a URL is a 400, and the server keeps serving', async () => {
  const http = await startHttpServer('127.0.0.1:0', { registry: createRegistry(), health: () => ({ ok: true, checks: {} }), ready: () => ({ ok: true, checks: {} }) });
  try {
    const [host, port] = [http.address.slice(0, http.address.lastIndexOf(':')), Number(http.address.slice(http.address.lastIndexOf(':') + 1))];
    const answer = await new Promise<string>((resolve, reject) => {
      let text = '';
      const socket = connect(port, host, () => socket.end('GET http://a:99999/ HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'));
      socket.setEncoding('utf8').on('data', (d: string) => (text += d)).on('end', () => resolve(text)).on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.equal((await fetch(`http://${http.address}/healthz`)).status, 200);
  } finally {
    await http.close();
  }
});
