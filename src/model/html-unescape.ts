// Python's html.unescape, which CLIP's reference tokenizer applies (twice) to every text: the same
// reference syntax, the same longest-prefix rule for names without ';', and the same fix-ups for
// numeric references, so prompts tokenize exactly as CLIP saw them in training.
import { DROPPED_CODE_POINTS, NAMED_REFERENCES, NUMERIC_REPLACEMENTS } from './html-entities.js';

const NAMED = new Map(Object.entries(NAMED_REFERENCES));
const NUMERIC = new Map(Object.entries(NUMERIC_REPLACEMENTS).map(([k, v]) => [Number(k), v]));

// Python's pattern is &(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?); with the u flag the
// name counts code points as Python does.
const REFERENCE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

function numeric(body: string): string {
  const hex = body[1] === 'x' || body[1] === 'X';
  const digits = body.slice(hex ? 2 : 1).replace(/;$/, '');
  // Python's int() is exact for any length; beyond 0x10FFFF only "too large" matters, which a float keeps.
  const code = parseInt(digits, hex ? 16 : 10);
  const replaced = NUMERIC.get(code);
  if (replaced !== undefined) return replaced;
  if ((code >= 0xd800 && code <= 0xdfff) || code > 0x10ffff) return '\uFFFD';
  if (DROPPED_CODE_POINTS.some(([first, last]) => code >= first && code <= last)) return '';
  return String.fromCodePoint(code);
}

function named(body: string): string {
  const exact = NAMED.get(body);
  if (exact !== undefined) return exact;
  // The longest known name that is a prefix (at least 2 characters); only names without ';' can be.
  const chars = Array.from(body);
  for (let n = chars.length - 1; n > 1; n--) {
    const prefix = chars.slice(0, n).join('');
    const hit = NAMED.get(prefix);
    if (hit !== undefined) return hit + chars.slice(n).join('');
  }
  return `&${body}`;
}

/** Replaces HTML character references in `text` exactly as Python's html.unescape does. */
export function htmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(REFERENCE, (_match, body: string) => (body.startsWith('#') ? numeric(body) : named(body)));
}
