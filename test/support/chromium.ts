// Debian's chromium for browser tests (puppeteer-core: no browser download), and a watch on a page
// so that a failed wait says what the page saw: its errors, a crashed renderer, failed requests.
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = '/usr/bin/chromium';

// A closed network refuses or stalls chromium's background connections; a container's small
// /dev/shm crashes renderers (puppeteer's troubleshooting guide), so shared memory goes to /tmp.
const FLAGS = ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS });
}

/** What a page reported: read by `seen()` when a wait fails. */
export function watchPage(page: Page, name: string): { seen(): string } {
  const notes: string[] = [];
  const note = (s: string) => {
    if (notes.length < 40) notes.push(s);
  };
  page.on('pageerror', (e) => note(`page error: ${(e as Error).message ?? String(e)}`));
  page.on('error', (e) => note(`page crashed: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warn') note(`console ${m.type()}: ${m.text()}`);
  });
  page.on('requestfailed', (r) => note(`request failed: ${r.url().replace(/token=[^&]*/, 'token=…')} (${r.failure()?.errorText ?? '?'})`));
  return { seen: () => `${name}: ${notes.length ? notes.join('\n  ') : 'no page errors, crashes or failed requests'}` };
}
