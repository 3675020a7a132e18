// Regenerates docs/console.png: run the demo (bin/msta-edge run), then
//   node --import tsx scripts/console-screenshot.ts http://127.0.0.1:9464
// Chromium from Debian (scripts/install-debian-deps.sh), driven by puppeteer-core.
import { launchChromium } from '../test/support/chromium.js';
const base = process.argv[2] ?? 'http://127.0.0.1:9464';
const b = await launchChromium();
const p = await b.newPage();
await p.setViewport({ width: 1100, height: 900 });
await p.goto(`${base}/`);
await p.waitForSelector('[data-camera="demo"] .bar', { timeout: 30000 });
await p.select('#pg-camera', 'demo');
for (const t of ['red ball moving left', 'a ball moving', 'a person tying shoelaces']) {
  await p.type('#pg-phrase', t); await p.keyboard.press('Enter');
  await p.waitForSelector(`[data-phrase="${t}"]`, { timeout: 30000 });
}
await p.click('[data-phrase="a ball moving"] button[data-yaml]');
const end = Date.now() + 90000;
while (Date.now() < end) {
  const s = await p.$$eval('.phrase .bar[data-label="this clip"]', (els) => els.map((e) => Number(e.getAttribute('data-score') || 0)));
  const rows = await p.$$('#events tr');
  // A phrase scoring visibly and a few events, or what there is after 90 s.
  if ((s[0] ?? 0) > 0.2 && rows.length >= 2) break;
  await new Promise((r) => setTimeout(r, 100));
}
await p.screenshot({ path: 'docs/console.png', fullPage: true });
await b.close();
