// The console's HTTP contract through a real HTTP client: the live feed's bounds (slow clients
// dropped and counted, max_clients refused), credentials off loopback (token, cookie, basic auth;
// /metrics, /healthz, /readyz open), playground phrases' 400 / 429, and no start without credentials.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { Registry } from 'prom-client';
import { registerConsoleMetrics } from '../src/console/console-metrics.js';
import { LiveFeed } from '../src/console/live-feed.js';
import { configSchema } from '../src/config/schema.js';
import { wireConsole } from '../src/daemon/console-wiring.js';
import { startHttpServer } from '../src/metrics/http-server.js';
import { runCliProcess } from './support/cli.js';
import { CONSOLE_CREDENTIALS, CONSOLE_TOKEN, consoleConfig, startConsoleDaemon } from './support/console-daemon.js';

const bearer = { authorization: `Bearer ${CONSOLE_TOKEN}` };

async function metric(base: string, line: RegExp): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = text.split('\n').find((l) => line.test(l));
  return m === undefined ? NaN : Number(m.slice(m.lastIndexOf(' ') + 1));
}

/** Reads an SSE stream until `until` holds for the messages so far (or the deadline). */
async function readEvents(res: Response, until: (events: { event: string; data: string }[]) => boolean, timeoutMs = 20_000) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const events: { event: string; data: string }[] = [];
  let buffered = '';
  const deadline = Date.now() + timeoutMs;
  try {
    while (!until(events)) {
      if (Date.now() > deadline) throw new Error(`stream ended early: ${events.map((e) => e.event).join(', ')}`);
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream closed after: ${events.map((e) => e.event).join(', ')}`);
      buffered += decoder.decode(value, { stream: true });
      const blocks = buffered.split('\n\n');
      buffered = blocks.pop()!;
      for (const b of blocks) {
        const event = /^event: (.*)$/m.exec(b)?.[1];
        const data = /^data: (.*)$/m.exec(b)?.[1];
        if (event && data) events.push({ event, data });
      }
    }
  } finally {
    await reader.cancel();
  }
  return events;
}

test('live feed over real HTTP: a client that stops reading is dropped at the buffer bound and counted; one that reads keeps its stream', { timeout: 30_000 }, async () => {
  const registry = new Registry();
  const metrics = registerConsoleMetrics(registry);
  const feed = new LiveFeed({ maxClients: 4, maxBufferedBytes: 256 * 1024 }, metrics, pino({ level: 'silent' }));
  const server = await startHttpServer('127.0.0.1:0', {
    registry,
    health: () => ({ ok: true, checks: {} }),
    ready: () => ({ ok: true, checks: {} }),
    routes: (req, res, url) => url.pathname === '/api/live' && (feed.open(req, res, { phrases: [] }, []), true),
  });
  const port = Number(server.address.slice(server.address.lastIndexOf(':') + 1));
  try {
    // The slow one: asks for the stream, then never reads (paused socket).
    const slow = connect(port, '127.0.0.1');
    let slowClosed = false;
    slow.on('close', () => (slowClosed = true)).on('error', () => undefined);
    slow.write('GET /api/live HTTP/1.1\r\nHost: x\r\n\r\n');
    slow.pause();
    const fast = await fetch(`http://127.0.0.1:${port}/api/live`);
    const deadline = Date.now() + 5000;
    while (feed.size < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.equal(feed.size, 2);
    // 300 messages of 64 KiB (19 MiB): far more than the slow client's kernel buffers and bound hold.
    const payload = 'x'.repeat(64 * 1024);
    const reading = readEvents(fast, (ev) => ev.filter((e) => e.event === 'big').length >= 300, 25_000);
    for (let i = 0; i < 300; i++) {
      feed.broadcast({ event: 'big', data: payload });
      await new Promise((r) => setImmediate(r));
    }
    assert.equal((await reading).filter((e) => e.event === 'big').length, 300, 'the reading client got every message');
    assert.equal(feed.size, 1, 'the slow client was dropped');
    const text = await registry.metrics();
    assert.match(text, /msta_console_clients_dropped_total\{reason="slow"\} 1/);
    assert.match(text, /msta_console_clients 1/);
    // Its connection is closed: reading what had reached it ends in a close.
    slow.resume();
    const closedBy = Date.now() + 10_000;
    while (!slowClosed && Date.now() < closedBy) await new Promise((r) => setTimeout(r, 20));
    assert.ok(slowClosed, 'the slow client was disconnected');
    slow.destroy();
  } finally {
    feed.close();
    await server.close();
  }
});

test('off loopback without http.auth the daemon refuses to start (exit 2, the key named); a short token file too; the token is never printed', { timeout: 60_000 }, async () => {
  const { dir, config } = consoleConfig();
  writeFileSync(config, (await import('node:fs')).readFileSync(config, 'utf8').replace('listen: 127.0.0.1:0', 'listen: 0.0.0.0:0'));
  const open = await runCliProcess(['run', '--config', config]);
  assert.equal(open.code, 2, open.stderr);
  assert.match(open.stderr, /http\.auth: http\.listen 0\.0\.0\.0:0 is not a loopback address: the console and \/api need http\.auth\.token_file/);
  assert.doesNotMatch(open.stderr, /at .*\.ts:\d+/, 'no stack trace');

  const short = join(dir, 'short-token');
  writeFileSync(short, 'tiny-s3cret\n');
  writeFileSync(config, (await import('node:fs')).readFileSync(config, 'utf8').replace('http:\n', `http:\n  auth:\n    token_file: ${short}\n`));
  const bad = await runCliProcess(['run', '--config', config]);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, /http\.auth\.token_file: .*short-token: the token must be at least 16 characters/);
  assert.doesNotMatch(bad.stderr + bad.stdout, /tiny-s3cret/);
});

test('daemon off loopback: console and /api need the token or basic auth, /metrics /healthz /readyz stay open; live-feed bounds; phrases 400 and 429', { timeout: 90_000 }, async () => {
  const { daemon, base } = await startConsoleDaemon({ token: CONSOLE_TOKEN, credentials: CONSOLE_CREDENTIALS, console: ['max_clients: 2', 'phrases_per_minute: 3', 'max_phrase_chars: 40'] });
  try {
    await daemon.waitForLine((l) => l.msg === 'labels ready', 60_000, 'labels ready');
    // Open: the scrapers and probes need no credentials.
    assert.equal((await fetch(`${base}/metrics`)).status, 200);
    assert.equal((await fetch(`${base}/healthz`)).status, 200);
    assert.notEqual((await fetch(`${base}/readyz`)).status, 401);

    // Guarded: the page, its files, the feed, the playground; any other /api path too.
    for (const path of ['/', '/console/console.js', '/api/live', '/api/phrase?text=x', '/api/anything']) {
      const res = await fetch(`${base}${path}`);
      assert.equal(res.status, 401, path);
      assert.match(((await res.json()) as { error: string }).error, /credentials required/);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Basic realm="msta-edge"/);
    }
    assert.equal((await fetch(`${base}/`, { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401);
    const [user] = CONSOLE_CREDENTIALS.split(':');
    assert.equal((await fetch(`${base}/`, { headers: { authorization: `Basic ${Buffer.from(`${user}:nope`).toString('base64')}` } })).status, 401);
    assert.ok((await metric(base, /^msta_console_unauthorized_total /)) >= 7);

    const page = await fetch(`${base}/`, { headers: bearer });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await page.text(), /<script type="module" src="\/console\/console.js">/);
    assert.equal((await fetch(`${base}/`, { headers: { authorization: `Basic ${Buffer.from(CONSOLE_CREDENTIALS).toString('base64')}` } })).status, 200);
    // ?token= once: a cookie (HttpOnly), and the address without the token.
    const login = await fetch(`${base}/?token=${CONSOLE_TOKEN}`, { redirect: 'manual' });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/');
    const cookie = login.headers.get('set-cookie') ?? '';
    assert.match(cookie, /HttpOnly/);
    assert.equal((await fetch(`${base}/console/console.css`, { headers: { cookie: cookie.split(';')[0]! } })).status, 200);

    // Phrases: length, emptiness, unknown camera, the rate of new ones per client.
    const phrase = (text: string) => fetch(`${base}/api/phrase?text=${encodeURIComponent(text)}`, { headers: bearer });
    for (const [text, why] of [['', /empty/], ['x'.repeat(41), /longer than 40 characters/], ['a\u0007bell', /control characters/]] as const) {
      const res = await phrase(text);
      assert.equal(res.status, 400, text);
      assert.match(((await res.json()) as { error: string }).error, why);
    }
    const first = await phrase('a red ball moving left');
    assert.deepEqual(await first.json(), { phrase: 'a red ball moving left', cached: false });
    assert.equal((await phrase('a ball going up')).status, 200);
    assert.equal((await phrase('something blinking')).status, 200);
    const limited = await phrase('a fourth new phrase');
    assert.equal(limited.status, 429);
    assert.match(((await limited.json()) as { error: string }).error, /more than 3 new phrases a minute/);
    assert.deepEqual(await (await phrase('a red ball moving left')).json(), { phrase: 'a red ball moving left', cached: true }, 'a known phrase costs nothing');
    assert.equal((await fetch(`${base}/api/live?camera=nowhere`, { headers: bearer })).status, 400);
    assert.equal((await fetch(`${base}/api/live?camera=demo&phrase=${encodeURIComponent('yet another new one')}`, { headers: bearer })).status, 429);
    assert.equal(await metric(base, /^msta_console_phrases_total\{result="rate_limited"\} /), 2);

    // The feed: a phrase scored per clip on its camera; a third client refused while two are open.
    const live = await fetch(`${base}/api/live?camera=demo&phrase=${encodeURIComponent('a red ball moving left')}`, { headers: bearer });
    assert.equal(live.status, 200);
    assert.match(live.headers.get('content-type') ?? '', /text\/event-stream/);
    const other = await fetch(`${base}/api/live`, { headers: bearer });
    assert.equal(other.status, 200);
    const refused = await fetch(`${base}/api/live`, { headers: bearer });
    assert.equal(refused.status, 503);
    assert.match(((await refused.json()) as { error: string }).error, /max_clients/);
    assert.equal(await metric(base, /^msta_console_clients_dropped_total\{reason="full"\} /), 1);
    assert.equal(await metric(base, /^msta_console_clients /), 2);
    const events = await readEvents(live, (ev) => ev.filter((e) => e.event === 'clip').length >= 3 && ev.some((e) => e.event === 'state'));
    const config = JSON.parse(events.find((e) => e.event === 'config')!.data) as { labels: string[]; recognition: { start: number } };
    assert.ok(config.labels.includes('red ball moving left'));
    const clips = events.filter((e) => e.event === 'clip').map((e) => JSON.parse(e.data) as { camera: string; top: unknown[]; phrases: { phrase: string; score: number }[] });
    for (const c of clips) {
      assert.equal(c.camera, 'demo');
      assert.equal(c.top.length, 3);
      assert.equal(c.phrases[0]!.phrase, 'a red ball moving left');
      assert.ok(c.phrases[0]!.score >= 0 && c.phrases[0]!.score <= 1);
    }
    const state = JSON.parse(events.find((e) => e.event === 'state')!.data) as { cameras: { id: string; state: string }[]; system: { model: string; version: string } };
    assert.equal(state.cameras[0]!.id, 'demo');
    assert.equal(state.system.model, 'synthetic-actions');
    await other.body!.cancel();
  } finally {
    await daemon.stop();
  }
  assert.ok(!daemon.raw.includes(CONSOLE_TOKEN), 'the token is never logged');
  assert.ok(!daemon.raw.includes(CONSOLE_CREDENTIALS.split(':')[1]!), 'the password is never logged');
});

test('http.console.enabled false: no page and no feed, and /api still needs the credentials off loopback', async () => {
  const registry = new Registry();
  const config = configSchema.parse({ http: { listen: '0.0.0.0:0', console: { enabled: false }, auth: { token: CONSOLE_TOKEN } } });
  const wired = wireConsole({
    config: () => config,
    registry,
    log: pino({ level: 'silent' }),
    cameraIds: () => [],
    status: () => undefined,
    model: () => undefined,
    tokenizer: () => undefined,
    recognizer: () => undefined,
    recognition: () => config.recognition,
    mqtt: () => undefined,
  });
  assert.equal(wired.service, undefined);
  assert.equal(wired.guarded, true);
  const server = await startHttpServer('127.0.0.1:0', { registry, health: () => ({ ok: true, checks: {} }), ready: () => ({ ok: true, checks: {} }), routes: wired.routes });
  const base = `http://${server.address}`;
  try {
    assert.equal((await fetch(`${base}/api/events`)).status, 401);
    assert.equal((await fetch(`${base}/api/live`, { headers: bearer })).status, 404, 'no live feed');
    assert.equal((await fetch(`${base}/`, { headers: bearer })).status, 404, 'no page');
    assert.equal((await fetch(`${base}/metrics`)).status, 200);
  } finally {
    await server.close();
  }
});
