import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSourceUrl } from '../src/source-url.js';
import { scrubSecrets } from '../src/source/secrets.js';
import { isMstaError } from '../src/errors.js';

test('each URL kind is recognised', () => {
  assert.deepEqual(parseSourceUrl('rtsp://cam.local:554/stream1'), { kind: 'rtsp', url: 'rtsp://cam.local:554/stream1' });
  assert.deepEqual(parseSourceUrl('RTSPS://u:p@10.0.0.2/h264'), { kind: 'rtsp', url: 'RTSPS://u:p@10.0.0.2/h264' });
  assert.deepEqual(parseSourceUrl('file:///srv/clips/a%20b.mp4'), { kind: 'file', path: '/srv/clips/a b.mp4' });
  assert.deepEqual(parseSourceUrl('/srv/clips/x.mkv'), { kind: 'file', path: '/srv/clips/x.mkv' });
  assert.deepEqual(parseSourceUrl('clips/x.avi', '/home/me'), { kind: 'file', path: '/home/me/clips/x.avi' });
  assert.deepEqual(parseSourceUrl('v4l2:///dev/video2'), { kind: 'v4l2', device: '/dev/video2' });
  assert.deepEqual(parseSourceUrl('/dev/video0'), { kind: 'v4l2', device: '/dev/video0' });
  assert.deepEqual(parseSourceUrl('test://ball'), { kind: 'test', pattern: 'ball', fps: 30 });
  assert.deepEqual(parseSourceUrl('test://smpte?fps=5'), { kind: 'test', pattern: 'smpte', fps: 5 });
});

test('bad URLs are refused with the reason and the password redacted', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['http://u:hunter2@cam/x', /unsupported scheme "http"/],
    ['http://u:hun@ter2@cam/x', /unsupported scheme "http".*u:\*\*\*@cam/],
    ['rtsp://u:hunter2@/x', /without a host|malformed/],
    ['rtsp://u:hunter2@[bad/x', /malformed/],
    ['file://host/x.mp4', /with a host/],
    ['v4l2://video0', /must name a device/],
    ['test://plaid', /unknown test pattern "plaid"/],
    ['test://ball?fps=0', /fps must be/],
  ];
  for (const [url, why] of cases) {
    assert.throws(
      () => parseSourceUrl(url),
      (e: unknown) => isMstaError(e, 'SOURCE_URL_INVALID') && why.test(e.message) && !e.message.includes('hunter2') && !e.message.includes('ter2'),
      url,
    );
  }
});

test('secrets are scrubbed from text that quotes the URL, raw or decoded', () => {
  const url = 'rtsp://admin:p%40ss%3Aword@10.1.2.3/live';
  const text = `could not open rtsp://admin:p%40ss%3Aword@10.1.2.3/live (user admin, password p@ss:word); see rtsp://x:y@other/`;
  const out = scrubSecrets(text, url);
  assert.ok(!out.includes('p%40ss%3Aword') && !out.includes('p@ss:word') && !out.includes(':y@'), out);
  assert.match(out, /rtsp:\/\/admin:\*\*\*@10\.1\.2\.3\/live/);
  assert.equal(scrubSecrets('no secrets here', 'test://ball'), 'no secrets here');
  // An '@' left unencoded in the password: the URL parser still finds where it ends.
  const raw = 'rtsp://admin:p@ss@10.1.2.3/live';
  assert.equal(scrubSecrets(`failed: ${raw}`, raw), 'failed: rtsp://admin:***@10.1.2.3/live');
});
