import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactUrl, redactUrlsIn } from '../src/redact.js';

test('credential query parameters are redacted, other parameters and the rest of the URL kept', () => {
  assert.equal(redactUrl('rtsp://cam/live?token=abc123&channel=2'), 'rtsp://cam/live?token=***&channel=2');
  assert.equal(redactUrl('https://h/p?a=1&Password=x&API_KEY=y;secret=z#frag'), 'https://h/p?a=1&Password=***&API_KEY=***;secret=***#frag');
  assert.equal(redactUrl('rtsp://u:pw@cam/s?access_token=t&passwd=p&pass=q&key=k&auth=a'), 'rtsp://u:***@cam/s?access_token=***&passwd=***&pass=***&key=***&auth=***');
  // A parameter that merely contains a credential word is not one; an empty value has nothing to hide.
  assert.equal(redactUrl('rtsp://cam/s?keyframe=1&token='), 'rtsp://cam/s?keyframe=1&token=');
  // After '#' is the fragment, not the query.
  assert.equal(redactUrl('rtsp://cam/s#token=1'), 'rtsp://cam/s#token=1');
});

test('URLs inside text: every one redacted, the text between them kept', () => {
  const text = 'a rtsp://u:hunter2@h/x?token=s3cret then "mqtts://m:pw@b:8883" and http://plain/ok?x=1 end';
  assert.equal(redactUrlsIn(text), 'a rtsp://u:***@h/x?token=*** then "mqtts://m:***@b:8883" and http://plain/ok?x=1 end');
  // The scheme starts at a letter; a bare "://" or one with nothing after it is no URL.
  assert.equal(redactUrlsIn('12rtsp://u:p@h'), '12rtsp://u:***@h');
  assert.equal(redactUrlsIn(':// x:// y'), ':// x:// y');
  assert.equal(redactUrlsIn('no urls here'), 'no urls here');
});

test('redaction of a 1 MB string is linear: the inputs that made the old regex quadratic', () => {
  const MB = 1 << 20;
  const cases: { name: string; text: string; check: (out: string) => void }[] = [
    // One long run of scheme characters with no "://": every start position used to rescan it.
    { name: 'scheme-like run', text: 'a'.repeat(MB), check: (out) => assert.equal(out.length, MB) },
    // A run of scheme characters then a URL: its scheme is the whole run.
    { name: 'run then URL', text: `${'b'.repeat(MB)}://u:hunter2@h/p?token=t`, check: (out) => assert.ok(out.endsWith('://u:***@h/p?token=***') && !out.includes('hunter2')) },
    // Many "?" without "=": the query-parameter pattern must not rescan the tail at each one.
    { name: 'query without values', text: `rtsp://h/p${'?a'.repeat(MB / 2)}`, check: (out) => assert.equal(out.length, MB + 10) },
    // Many URLs, each with a password.
    { name: 'many URLs', text: 'rtsp://u:hunter2@h/x '.repeat(MB / 21), check: (out) => assert.ok(!out.includes('hunter2') && out.includes('rtsp://u:***@h/x ')) },
    // One URL 1 MB long with an @ near the end.
    { name: 'long userinfo', text: `rtsp://${'u'.repeat(MB)}:hunter2@h`, check: (out) => assert.ok(out.endsWith(':***@h') && !out.includes('hunter2')) },
  ];
  for (const { name, text, check } of cases) {
    const started = performance.now();
    const out = redactUrlsIn(text);
    const ms = performance.now() - started;
    check(out);
    // Not a benchmark: a guard against quadratic blow-up only (quadratic on 1 MB takes minutes).
    assert.ok(ms < 2000, `${name}: ${ms.toFixed(0)} ms for 1 MB`);
  }
});
