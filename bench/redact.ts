// Benchmark: redactUrlsIn's time against the input's length, next to the single regex it
// replaced (the baseline, kept here only to measure against). Linear means the time per MB stays
// flat as the input grows; the baseline's grows with the length (quadratic).
//   node --import tsx bench/redact.ts [--repeats 5]
import { parseArgs } from 'node:util';
import { redactUrl, redactUrlsIn } from '../src/redact.js';

const { values } = parseArgs({ options: { repeats: { type: 'string', default: '5' } } });
const repeats = Number(values.repeats);

/** The implementation before: one global regex over the text. */
const baseline = (text: string): string => text.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]+/gi, (url) => redactUrl(url));

function time(f: (s: string) => string, text: string): { min: number; median: number; max: number } {
  const ms: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    f(text);
    ms.push(performance.now() - start);
  }
  ms.sort((a, b) => a - b);
  return { min: ms[0]!, median: ms[Math.floor(ms.length / 2)]!, max: ms.at(-1)! };
}

const fmt = (t: { min: number; median: number; max: number }): string => `${t.median.toFixed(3)} ms (min ${t.min.toFixed(3)}, max ${t.max.toFixed(3)})`;
console.log(`repeats: ${repeats}; input: a run of scheme characters with no "://" (a long label or word), then one URL`);
// 100,000 characters would take the baseline about 35 s a run: 10k and 30k show its growth.
for (const n of [10_000, 30_000]) {
  const text = `${'a'.repeat(n)} rtsp://u:pw@cam/s?token=t`;
  const before = time(baseline, text);
  const after = time(redactUrlsIn, text);
  console.log(`${String(n).padStart(7)} chars: baseline ${fmt(before)}, now ${fmt(after)}, ratio ${(before.median / after.median).toFixed(0)}x`);
}
// Linear: the time per character stays flat from 10k to 1M, including the worst case for the
// new scanner (one scheme run walked back over in full).
for (const n of [10_000, 100_000, 1 << 20]) {
  for (const [name, text] of [['no URL', 'a'.repeat(n)], ['one long scheme', `${'b'.repeat(n)}://u:pw@h`], ['many URLs', 'rtsp://u:pw@h/x '.repeat(n / 16)]] as const) {
    const t = time(redactUrlsIn, text);
    console.log(`now, ${name.padEnd(15)} ${String(n).padStart(7)} chars: ${fmt(t)}, ${((t.median * 1e6) / n).toFixed(1)} ns/char`);
  }
}
