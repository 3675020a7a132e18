// The console's pure parts: the per-client rate limit, credentials, phrase checks and cache, the
// latency window, which listen addresses count as loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { isAuthorized, isToken } from '../src/console/auth.js';
import { registerConsoleMetrics } from '../src/console/console-metrics.js';
import { LatencyWindow } from '../src/console/latency-window.js';
import { PhraseBook, phraseProblem } from '../src/console/phrase-book.js';
import { RateLimit } from '../src/console/rate-limit.js';
import { isLoopbackListen } from '../src/config/schema.js';

test('rate limit: a burst of perMinute, then one token per 60/perMinute s; keys apart', () => {
  const limit = new RateLimit(3);
  assert.deepEqual([0, 0, 0, 0].map((t) => limit.take('a', t)), [true, true, true, false]);
  assert.equal(limit.take('b', 0), true, 'another client has its own bucket');
  assert.equal(limit.take('a', 19_000), false, 'not yet a whole token after 19 s');
  assert.equal(limit.take('a', 20_001), true, 'one token after 20 s');
  assert.equal(limit.take('a', 20_002), false);
  assert.deepEqual([1, 2, 3, 4].map(() => limit.take('a', 10 * 60_000)), [true, true, true, false], 'refills to the burst, not beyond');
});

test('rate limit: remembers at most maxKeys clients (the longest idle forgotten)', () => {
  const limit = new RateLimit(1, 2);
  limit.take('a', 0);
  limit.take('b', 0);
  limit.take('c', 0);
  assert.equal(limit.take('b', 0), false, 'b still remembered');
  assert.equal(limit.take('a', 0), true, 'a was forgotten: a full bucket again');
});

test('credentials: none configured is open; bearer, cookie and basic compared exactly', () => {
  const token = 'tok-0123456789abcdef';
  const req = (headers: Record<string, string>) => ({ headers });
  assert.equal(isAuthorized(req({}), {}), true);
  const secrets = { token, credentials: 'ann:pa:ss' };
  assert.equal(isAuthorized(req({}), secrets), false);
  assert.equal(isAuthorized(req({ authorization: `Bearer ${token}` }), secrets), true);
  assert.equal(isAuthorized(req({ authorization: `bearer ${token}` }), secrets), true, 'the scheme is case-insensitive');
  assert.equal(isAuthorized(req({ authorization: `Bearer ${token}x` }), secrets), false);
  assert.equal(isAuthorized(req({ cookie: `a=1; msta_token=${token}` }), secrets), true);
  assert.equal(isAuthorized(req({ cookie: 'msta_token=%zz' }), secrets), false, 'bad percent-encoding is no credential');
  const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;
  assert.equal(isAuthorized(req({ authorization: basic('ann:pa:ss') }), secrets), true, 'a colon in the password');
  assert.equal(isAuthorized(req({ authorization: basic('ann:pa') }), secrets), false);
  assert.equal(isAuthorized(req({ authorization: basic(`x:${token}`) }), { token }), false, 'the token is not a basic password');
  assert.equal(isAuthorized(req({ authorization: `Bearer ${token}` }), { credentials: 'ann:pa:ss' }), false);
  assert.equal(isToken(token, { token }), true);
  assert.equal(isToken(null, { token }), false);
  assert.equal(isToken(token, {}), false);
});

test('phrases: checked, embedded once, the cache bounded, new ones rate-limited per client, failures not kept', async () => {
  assert.equal(phraseProblem('  a person waving ', 20), undefined);
  assert.match(phraseProblem('   ', 20)!, /empty/);
  assert.match(phraseProblem('x'.repeat(21), 20)!, /longer than 20/);
  assert.equal(phraseProblem('é'.repeat(20), 20), undefined, 'characters, not bytes');
  assert.match(phraseProblem('tab\there', 20)!, /control/);

  const registry = new Registry();
  const embedded: string[] = [];
  let fail = false;
  const embed = async (p: string) => {
    embedded.push(p);
    if (fail) throw new Error('graph failed');
    return Float32Array.of(p.length);
  };
  let now = 0;
  const book = new PhraseBook(() => ({ key: 'a video of {}.', embed }), { maxChars: 40, perMinute: 2 }, registerConsoleMetrics(registry), 2, () => now);
  const a = await book.resolve('c1', ' waving ');
  assert.ok(a.ok && a.phrase === 'waving' && !a.cached && a.embedding[0] === 6);
  const again = await book.resolve('c2', 'waving');
  assert.ok(again.ok && again.cached);
  assert.deepEqual(embedded, ['waving']);
  assert.ok((await book.resolve('c1', 'jumping')).ok);
  const limited = await book.resolve('c1', 'sitting');
  assert.ok(!limited.ok && limited.status === 429);
  assert.ok((await book.resolve('c1', 'jumping')).ok, 'a cached phrase is free');
  assert.ok((await book.resolve('c2', 'sitting')).ok, 'another client has its own limit');
  // Capacity 2: "waving" (least recently used) is gone, so it is embedded again.
  now = 60_000;
  assert.ok(!(await book.resolve('c1', 'waving') as { cached?: boolean }).cached);
  fail = true;
  const failed = await book.resolve('c3', 'falling');
  assert.ok(!failed.ok && failed.status === 500 && /graph failed/.test(failed.error));
  fail = false;
  assert.ok((await book.resolve('c3', 'falling')).ok, 'a failed phrase is tried again');
  assert.match(await registry.metrics(), /msta_console_phrases_total\{result="rate_limited"\} 1/);
  const loading = new PhraseBook(() => undefined, { maxChars: 40, perMinute: 2 }, registerConsoleMetrics(new Registry()));
  const early = await loading.resolve('c1', 'waving');
  assert.ok(!early.ok && /still loading/.test(early.error));
});

test('phrases are kept per embedder key: a camera with its own template (or a swapped model) embeds anew, cameras sharing one share the cache', async () => {
  const embedded: string[] = [];
  const templates: Record<string, string> = { hall: 'a video of {}.', porch: 'a video of {}.', bed: 'a photo of a person {}.' };
  const book = new PhraseBook(
    (camera) => {
      const template = templates[camera ?? 'hall']!;
      return { key: template, embed: async (p: string) => (embedded.push(template.replace('{}', p)), Float32Array.of(template.length)) };
    },
    { maxChars: 40, perMinute: 10 },
    registerConsoleMetrics(new Registry()),
  );
  const hall = await book.resolve('c1', 'waving', 'hall');
  const porch = await book.resolve('c1', 'waving', 'porch');
  const bed = await book.resolve('c1', 'waving', 'bed');
  const none = await book.resolve('c1', 'waving');
  assert.ok(hall.ok && porch.ok && bed.ok && none.ok);
  assert.ok(porch.cached && none.cached && !bed.cached);
  assert.deepEqual(embedded, ['a video of waving.', 'a photo of a person waving.']);
  assert.notEqual(bed.embedding[0], hall.embedding[0]);
});

test('latency window: nearest-rank quantiles over the last N values', () => {
  const w = new LatencyWindow(100);
  assert.equal(w.quantile(0.5), null);
  for (let i = 1; i <= 200; i++) w.add(i);
  assert.equal(w.count, 100);
  assert.equal(w.quantile(0.5), 150, 'only the last 100 (101..200)');
  assert.equal(w.quantile(0.99), 199);
  assert.equal(w.quantile(1), 200);
});

test('loopback listen addresses', () => {
  for (const l of ['127.0.0.1:9464', '127.3.2.1:0', 'localhost:1', '[::1]:9464', 'LOCALHOST:5']) assert.equal(isLoopbackListen(l), true, l);
  for (const l of ['0.0.0.0:9464', '[::]:9464', '192.168.1.5:80', 'edge.local:9464', '127.0.0.1.nip.io:1']) assert.equal(isLoopbackListen(l), false, l);
});
