// The console in a real browser (Debian's chromium through puppeteer-core, no browser download)
// against the real daemon playing the demo video, bound off loopback with a token: refused without
// it; with it, the camera card streams with changing scores, an event appears, and a playground
// phrase gets live scores; the card shows the camera's live snapshot and the event its thumbnail,
// shown large on a click. Screenshots land in tmp/console-screenshots for review.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import type { Page } from 'puppeteer-core';
import { CHROMIUM, launchChromium, watchPage } from './support/chromium.js';
import { CONSOLE_TOKEN, startConsoleDaemon } from './support/console-daemon.js';
import type { DaemonProcess } from './support/daemon-process.js';

const SHOTS = 'tmp/console-screenshots';

/** Waits for `get` to give a value; a timeout says what the page and the daemon saw meanwhile. */
function poller(daemon: DaemonProcess, pages: { page: Page; watch: { seen(): string } }[]) {
  return async function poll<T>(what: string, timeoutMs: number, get: () => Promise<T | undefined>): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const v = await get();
      if (v !== undefined) return v;
      if (Date.now() > end) {
        const views = await Promise.all(
          pages.map(async ({ page, watch }) => {
            const body = (await page.evaluate("document.querySelector('main')?.innerText ?? document.body.innerText").catch((e: Error) => `(unreadable: ${e.message})`)) as string;
            return `${watch.seen()}\n  text: ${body.slice(0, 1500)}`;
          }),
        );
        const daemonLog = daemon.lines.filter((l) => l.level >= 40 || /camera|model|console/.test(l.msg)).slice(-30).map((l) => JSON.stringify(l).slice(0, 400));
        throw new Error(`no ${what} within ${timeoutMs} ms\n${views.join('\n')}\ndaemon log:\n  ${daemonLog.join('\n  ')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
}

const text = (page: Page, selector: string) => page.$eval(selector, (el) => el.textContent ?? '').catch(() => undefined);

test('console in chromium: token required off loopback; streaming card with changing scores, an event, a live playground phrase', { timeout: 120_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/install-debian-deps.sh (Debian's chromium package)`);
  mkdirSync(SHOTS, { recursive: true });
  const { daemon, base } = await startConsoleDaemon({ token: CONSOLE_TOKEN, snapshots: true });
  const browser = await launchChromium();
  const watched: { page: Page; watch: { seen(): string } }[] = [];
  const poll = poller(daemon, watched);
  const newPage = async (name: string): Promise<Page> => {
    const page = await browser.newPage();
    watched.push({ page, watch: watchPage(page, name) });
    return page;
  };
  try {
    // Without the token: 401, and no page.
    const anonymous = await newPage('anonymous page');
    const refused = await anonymous.goto(`${base}/`);
    assert.equal(refused?.status(), 401);
    assert.match(await anonymous.content(), /credentials required/);
    assert.equal(await anonymous.$('#cameras'), null);
    const wrong = await anonymous.goto(`${base}/?token=not-the-token-at-all`);
    assert.equal(wrong?.status(), 401);

    // With it once in the address: a cookie, the token gone from the address bar.
    const page = await newPage('console page');
    await page.setViewport({ width: 1280, height: 900 });
    const opened = await page.goto(`${base}/?token=${CONSOLE_TOKEN}`);
    assert.equal(opened?.status(), 200);
    assert.equal(new URL(page.url()).search, '', 'the token left the address');

    await poll('streaming camera card', 60_000, async () => ((await text(page, '[data-camera="demo"] .state')) === 'streaming' ? true : undefined));
    // The top-k chart changes clip by clip.
    const seen = new Set<string>();
    await poll('changing top scores', 30_000, async () => {
      const top = await page.$eval('[data-camera="demo"] .bar', (el) => `${el.getAttribute('data-label')}=${el.getAttribute('data-score')}`).catch(() => undefined);
      if (top) seen.add(top);
      return seen.size >= 3 ? true : undefined;
    });
    const fps = await text(page, '[data-camera="demo"] .facts');
    assert.match(fps ?? '', /\d+(\.\d)? fps/);
    const system = await text(page, '#system');
    assert.match(system ?? '', /synthetic-actions/);
    assert.match(system ?? '', /Inference p50 \/ p99\d+\.\d \/ \d+\.\d ms/);

    // The card's live snapshot: a JPEG the browser decoded (the demo video is 320 wide).
    const live = await poll('a live snapshot on the card', 30_000, async () => {
      const w = (await page.$eval('[data-camera="demo"] img.live', (img) => (img as unknown as { naturalWidth: number }).naturalWidth).catch(() => 0));
      return w > 0 ? w : undefined;
    });
    assert.equal(live, 320);

    // An action event from the demo video shows in the events table, with its thumbnail.
    const event = await poll('an event row', 40_000, async () => page.$eval('#events tr[data-event]', (tr) => tr.textContent ?? '').catch(() => undefined));
    assert.match(event, /demo.*ball/);
    const thumb = await poll('an event thumbnail', 40_000, async () => {
      const w = await page.$eval('#events tr[data-event] .thumb img', (img) => (img as unknown as { naturalWidth: number }).naturalWidth).catch(() => 0);
      return w > 0 ? w : undefined;
    });
    assert.equal(thumb, 320, 'the stored snapshot (640 wide at most: the demo is 320)');
    await page.click('#events tr[data-event] .thumb');
    const large = await poll('the snapshot shown large', 10_000, async () => {
      const w = (await page.evaluate("document.getElementById('snapshot').open && document.getElementById('snapshot-img').naturalWidth")) as number | false;
      return w ? w : undefined;
    });
    assert.equal(large, 320);
    await page.screenshot({ path: `${SHOTS}/console-snapshot.png` });
    await page.keyboard.press('Escape');

    // The sliders start at the configured thresholds (sent even to a page opened while the model loaded).
    await poll('thresholds from the config', 10_000, async () => ((await text(page, '#pg-start-v')) === '0.60' && (await text(page, '#pg-end-v')) === '0.40' ? true : undefined));
    // A phrase typed in the playground gets live scores on the camera's clips.
    await page.select('#pg-camera', 'demo');
    await page.type('#pg-phrase', 'a red ball moving left');
    await page.keyboard.press('Enter');
    // Live: the score changes clip by clip (the demo shows the red ball moving left, among others).
    const scores = new Set<number>();
    await poll('a changing phrase score', 40_000, async () => {
      const s = await page.$eval('[data-phrase="a red ball moving left"] .bar[data-label="this clip"]', (el) => el.getAttribute('data-score')).catch(() => undefined);
      if (s) scores.add(Number(s));
      return scores.size >= 3 ? true : undefined;
    });
    for (const s of scores) assert.ok(s >= 0 && s <= 1, `score ${s}`);
    // The YAML to add it, from the keyboard.
    await page.focus('[data-phrase="a red ball moving left"] button[data-yaml]');
    await page.keyboard.press('Enter');
    const yaml = await poll('YAML', 5000, () => text(page, '[data-phrase="a red ball moving left"] pre'));
    assert.match(yaml, /name: "a red ball moving left"\n\s+threshold: 0\.60/);
    await page.screenshot({ path: `${SHOTS}/console-desktop.png`, fullPage: true });
    // On a phone (same browser: the cookie carries the token): nothing wider than the screen.
    const phone = await newPage('phone page');
    await phone.setViewport({ width: 390, height: 844, isMobile: true, hasTouch: true });
    await phone.goto(`${base}/`);
    await poll('bars on the phone', 30_000, async () => ((await phone.$('[data-camera="demo"] .bar')) ? true : undefined));
    await phone.screenshot({ path: `${SHOTS}/console-phone.png`, fullPage: true });
    // Evaluated in the page (a string: the test's TypeScript has no DOM types).
    const overflow = (await phone.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
    assert.ok(overflow <= 1, `the page is ${overflow} px wider than a phone`);
  } finally {
    await browser.close();
    await daemon.stop();
  }
});
