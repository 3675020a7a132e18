// CLIP's byte-pair tokenizer (OpenAI CLIP's clip/simple_tokenizer.py), so the text model receives
// exactly the ids it was trained on: clean the text, split it with CLIP's pattern, map each piece's
// UTF-8 bytes to characters, apply the merges by rank, mark word ends with "</w>".
import { BYTE_TO_CHAR } from './byte-unicode.js';
import { END_OF_TEXT, END_OF_WORD, START_OF_TEXT, type ClipVocab } from './clip-vocab.js';
import { htmlUnescape } from './html-unescape.js';

// Python's str.isspace() set, which the reference's re `\s` uses; JavaScript's \s differs
// (it adds U+FEFF and lacks U+001C-U+001F and U+0085).
const WS = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WHITESPACE_RUNS = new RegExp(`[${WS}]+`, 'g');

// The reference's pattern (compiled there with IGNORECASE; `u` makes \p{} and case folding work
// on code points as Python's regex module does).
const PRE_TOKENIZER = new RegExp(
  `<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|\\p{L}+|\\p{N}|[^${WS}\\p{L}\\p{N}]+`,
  'giu',
);

/**
 * The reference's cleaning: ftfy.fix_text, html.unescape twice, whitespace runs -> one space,
 * strip, lower-case. ftfy is a Python library that is not reproduced here; instead the two of its
 * default fixes that apply to well-formed text are: NFC normalisation (so "e" + U+0301 tokenizes
 * like "é") and straightening curly quotes (U+2018-U+201B -> ', U+201C-U+201F -> "), as its
 * uncurl_quotes does. Its mojibake repair, ligature and full-width fixes, control-character
 * removal and its own extra HTML-unescape pass are not done, so only text carrying mojibake,
 * ligatures, full-width forms, control characters or triple-escaped entities can tokenize
 * differently from CLIP's reference; ordinary text is unaffected.
 */
export function cleanClipText(text: string): string {
  const fixed = text
    .normalize('NFC')
    .replace(/[\u2018-\u201b]/g, "'")
    .replace(/[\u201c-\u201f]/g, '"');
  return htmlUnescape(htmlUnescape(fixed)).replace(WHITESPACE_RUNS, ' ').trim().toLowerCase();
}

/** The pieces CLIP's pattern splits cleaned text into (words, single digits, symbol runs, ...). */
export function preTokenize(cleaned: string): string[] {
  return cleaned.match(PRE_TOKENIZER) ?? [];
}

/** `ids` made exactly `contextLength` long for the model: cut keeping the end token last, or zero-padded. */
export function fitToContext(ids: readonly number[], contextLength: number, endOfText: number): number[] {
  if (ids.length > contextLength) return [...ids.slice(0, contextLength - 1), endOfText];
  return [...ids, ...new Array<number>(contextLength - ids.length).fill(0)];
}

// Word -> ids; labels repeat words a lot. Bounded so odd input cannot grow it without end.
const CACHE_LIMIT = 50_000;

export class ClipTokenizer {
  private readonly cache = new Map<string, number[]>();

  constructor(readonly vocab: ClipVocab) {}

  /** Token ids of `text` without start and end tokens (the reference's `encode`). */
  encode(text: string): number[] {
    const ids: number[] = [];
    for (const piece of preTokenize(cleanClipText(text))) {
      if (piece === START_OF_TEXT || piece === END_OF_TEXT) {
        ids.push(piece === START_OF_TEXT ? this.vocab.startOfText : this.vocab.endOfText);
        continue;
      }
      ids.push(...this.word(piece));
    }
    return ids;
  }

  /** Token ids of `text` with the start and end tokens, neither truncated nor padded. */
  tokenize(text: string): number[] {
    return [this.vocab.startOfText, ...this.encode(text), this.vocab.endOfText];
  }

  /** The text model's input row for `text`: exactly `contextLength` ids (see fitToContext). */
  inputIds(text: string, contextLength: number): number[] {
    if (!Number.isInteger(contextLength) || contextLength < 2) {
      throw new RangeError(`context length must be an integer >= 2, got ${contextLength}`);
    }
    return fitToContext(this.tokenize(text), contextLength, this.vocab.endOfText);
  }

  private word(piece: string): number[] {
    const cached = this.cache.get(piece);
    if (cached) return cached;
    let chars = '';
    for (const byte of Buffer.from(piece, 'utf8')) chars += BYTE_TO_CHAR[byte];
    const ids = this.bpe(chars).map((symbol) => {
      const id = this.vocab.encoder.get(symbol);
      // Every symbol BPE can produce is in the vocabulary by construction (bytes, merges).
      if (id === undefined) throw new Error(`BPE produced ${JSON.stringify(symbol)}, which the vocabulary lacks`);
      return id;
    });
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, ids);
    return ids;
  }

  /** Merges adjacent symbols, lowest merge rank first, all occurrences at once, until none applies. */
  private bpe(chars: string): string[] {
    let word = chars.split('');
    word[word.length - 1] += END_OF_WORD;
    const { ranks } = this.vocab;
    while (word.length > 1) {
      let best = Infinity;
      let first = '';
      let second = '';
      for (let i = 0; i < word.length - 1; i++) {
        const rank = ranks.get(`${word[i]} ${word[i + 1]}`);
        if (rank !== undefined && rank < best) {
          best = rank;
          first = word[i]!;
          second = word[i + 1]!;
        }
      }
      if (best === Infinity) break;
      const merged: string[] = [];
      for (let i = 0; i < word.length; i++) {
        if (word[i] === first && word[i + 1] === second && i < word.length - 1) {
          merged.push(first + second);
          i++;
        } else {
          merged.push(word[i]!);
        }
      }
      word = merged;
    }
    return word;
  }
}
