// CLIP's BPE vocabulary, read from a merges file in the format of OpenAI's
// bpe_simple_vocab_16e6.txt.gz: a header line, then one merge "first second" per line, best first.
//
// Token ids follow CLIP's construction: the 256 byte characters, the same 256 with "</w>", then one
// token per merge (the two symbols joined), then <|startoftext|> and <|endoftext|>.
// Merge count rule: every merge line after the header is used, capped at CLIP's 48,894
// (49152 - 256 - 2: the real file has more lines, which CLIP ignores), so the real file gives
// 49,408 tokens and a smaller file of the same format (a test bundle's) gives 512 + lines + 2.
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { MstaError } from '../errors.js';
import { BYTE_CHARS_IN_VOCAB_ORDER } from './byte-unicode.js';

export const CLIP_MAX_MERGES = 49152 - 256 - 2;
export const START_OF_TEXT = '<|startoftext|>';
export const END_OF_TEXT = '<|endoftext|>';
export const END_OF_WORD = '</w>';

export interface ClipVocab {
  /** Token string -> id. */
  readonly encoder: ReadonlyMap<string, number>;
  /** "first second" -> merge rank (lower merges first). */
  readonly ranks: ReadonlyMap<string, number>;
  readonly merges: number;
  /** Number of ids (the text model's embedding rows). */
  readonly size: number;
  readonly startOfText: number;
  readonly endOfText: number;
}

function invalid(where: string, message: string): MstaError {
  return new MstaError('VOCAB_INVALID', message, { where });
}

/** Builds the vocabulary from the merges file's text; `where` names the file in errors. */
export function parseClipVocab(text: string, where: string): ClipVocab {
  const lines = text.split('\n');
  let available = lines.length - 1;
  while (available > 0 && lines[available]!.trim() === '') available--;
  const count = Math.min(available, CLIP_MAX_MERGES);
  if (count < 1) throw invalid(where, 'no merges after the header line: not a CLIP BPE merges file');

  const tokens: string[] = [...BYTE_CHARS_IN_VOCAB_ORDER, ...BYTE_CHARS_IN_VOCAB_ORDER.map((c) => c + END_OF_WORD)];
  const known = new Set(tokens);
  const ranks = new Map<string, number>();
  for (let rank = 0; rank < count; rank++) {
    const lineNo = rank + 2;
    const parts = lines[rank + 1]!.trim().split(/\s+/);
    if (parts.length !== 2 || parts[0] === '') {
      throw invalid(`${where}:${lineNo}`, `expected a merge "first second", found ${JSON.stringify(lines[rank + 1])}`);
    }
    const [first, second] = parts as [string, string];
    for (const symbol of parts) {
      if (!known.has(symbol)) throw invalid(`${where}:${lineNo}`, `merge uses the unknown symbol ${JSON.stringify(symbol)}`);
    }
    // Later duplicates win, as in the reference's dict(zip(...)).
    ranks.set(`${first} ${second}`, rank);
    tokens.push(first + second);
    known.add(first + second);
  }
  tokens.push(START_OF_TEXT, END_OF_TEXT);

  const encoder = new Map<string, number>();
  tokens.forEach((token, id) => encoder.set(token, id));
  return {
    encoder,
    ranks,
    merges: count,
    size: tokens.length,
    startOfText: tokens.length - 2,
    endOfText: tokens.length - 1,
  };
}

/** Reads a merges file, gzipped (as CLIP ships it) or plain text. */
export function loadClipVocab(file: string): ClipVocab {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw invalid(file, `cannot read the tokenizer vocabulary: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw invalid(file, `not a readable gzip file: ${(e as Error).message}`);
    }
  }
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid(file, 'not UTF-8 text: not a CLIP BPE merges file');
  }
  return parseClipVocab(text, file);
}
