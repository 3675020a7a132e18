// Text files a user writes (config, label files, url_file, password files) must be UTF-8: decoded
// leniently, a stray Latin-1 byte would become U+FFFD in published labels or a wrong password.
import { readFileSync } from 'node:fs';

const strict = new TextDecoder('utf-8', { fatal: true });

/** The file's text without a leading BOM; throws a TextEncodingError for bytes that are not UTF-8 (fs errors as they come). */
export function readTextFile(path: string): string {
  return decodeUtf8(readFileSync(path), path);
}

export class TextEncodingError extends Error {
  readonly line: number;
  constructor(readonly file: string, line: number) {
    super(`not UTF-8 text (first invalid byte on line ${line}): save it as UTF-8`);
    this.name = 'TextEncodingError';
    this.line = line;
  }
}

export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return strict.decode(bytes);
  } catch {
    // The first line that does not decode on its own ("\n" never occurs inside a UTF-8 sequence).
    let line = 1;
    for (let start = 0; start < bytes.length; line++) {
      const nl = bytes.indexOf(10, start);
      const end = nl < 0 ? bytes.length : nl;
      try {
        strict.decode(bytes.subarray(start, end));
      } catch {
        break;
      }
      start = end + 1;
    }
    throw new TextEncodingError(file, line);
  }
}

/** "not UTF-8 text (...)" for a TextEncodingError, the errno code for a file-system error. */
export function readFailure(e: unknown): string {
  if (e instanceof TextEncodingError) return e.message;
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' ? 'no such file' : code ? `cannot read (${code})` : `cannot read (${(e as Error).message})`;
}
