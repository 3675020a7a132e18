// Credentials for the console and /api: a bearer token (header, or a cookie the page sets from
// `/?token=`), or basic auth. Compared in constant time; never logged.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export interface ConsoleSecrets {
  token?: string;
  /** USER:PASSWORD */
  credentials?: string;
}

export const TOKEN_COOKIE = 'msta_token';

function same(a: string, b: string): boolean {
  // Hashed first: equal lengths for timingSafeEqual, and no length leak.
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

function cookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) {
      try {
        return decodeURIComponent(part.slice(eq + 1).trim());
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** True when no secret is configured (loopback), or the request carries one that matches. */
export function isAuthorized(req: Pick<IncomingMessage, 'headers'>, secrets: ConsoleSecrets): boolean {
  const { token, credentials } = secrets;
  if (token === undefined && credentials === undefined) return true;
  const header = req.headers.authorization ?? '';
  const space = header.indexOf(' ');
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (token !== undefined) {
    if (scheme === 'bearer' && same(value, token)) return true;
    const fromCookie = cookie(req.headers.cookie, TOKEN_COOKIE);
    if (fromCookie !== undefined && same(fromCookie, token)) return true;
  }
  if (credentials !== undefined && scheme === 'basic') {
    return same(Buffer.from(value, 'base64').toString('utf8'), credentials);
  }
  return false;
}

/** The token given in `?token=` matches: the page sets it as a cookie and drops it from the address. */
export function isToken(candidate: string | null, secrets: ConsoleSecrets): boolean {
  return candidate !== null && secrets.token !== undefined && same(candidate, secrets.token);
}
