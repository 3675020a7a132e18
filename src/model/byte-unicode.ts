// CLIP's (and GPT-2's) byte-to-unicode table: each of the 256 byte values stands for one printable
// character, so BPE works on strings. Printable Latin-1 bytes map to themselves; the rest (controls,
// space, soft hyphen) map, in byte order, to U+0100 onwards. The table order is also the order of
// the first 256 vocabulary entries.

function isPrintableLatin1(byte: number): boolean {
  return (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
}

function buildTable(): { byteToChar: string[]; order: string[] } {
  const byteToChar: string[] = new Array<string>(256);
  const printable: number[] = [];
  const others: number[] = [];
  for (let b = 0; b < 256; b++) (isPrintableLatin1(b) ? printable : others).push(b);
  for (const b of printable) byteToChar[b] = String.fromCharCode(b);
  others.forEach((b, i) => {
    byteToChar[b] = String.fromCharCode(256 + i);
  });
  return { byteToChar, order: [...printable, ...others].map((b) => byteToChar[b]!) };
}

const TABLE = buildTable();

/** The character standing for each byte value (index = byte). */
export const BYTE_TO_CHAR: readonly string[] = TABLE.byteToChar;

/** The 256 byte characters in CLIP's vocabulary order (printable bytes first, then the others). */
export const BYTE_CHARS_IN_VOCAB_ORDER: readonly string[] = TABLE.order;
