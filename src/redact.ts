// Secrets (camera passwords in URLs, MQTT credentials, tokens in query strings) must never reach
// logs, metrics or payloads. Every function here is linear in its input's length: log lines can
// quote long labels or GStreamer dumps, and a backtracking regex over them stalls the event loop.

/** Query parameters whose values are credentials (compared case-insensitively). */
export const SECRET_QUERY_PARAMS: ReadonlySet<string> = new Set([
  'token', 'access_token', 'refresh_token', 'id_token', 'auth', 'authorization', 'auth_token',
  'password', 'passwd', 'pass', 'pwd', 'key', 'api_key', 'apikey', 'api-key', 'secret',
  'client_secret', 'signature', 'sig', 'credential', 'credentials', 'session', 'sessionid',
]);

const SECRET_PARAM = /([?&;])([^=&#;?\s]+)=([^&#;\s]*)/g;

/**
 * The URL with any user-info password and the values of credential query parameters replaced by
 * "***" (user names and other parameters kept: they help debugging).
 */
export function redactUrl(url: string): string {
  const withoutPassword = url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/\s]*)@/i, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon < 0 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
  const query = withoutPassword.search(/[?#]/);
  if (query < 0 || withoutPassword[query] === '#') return withoutPassword;
  return (
    withoutPassword.slice(0, query) +
    withoutPassword.slice(query).replace(SECRET_PARAM, (whole, sep: string, name: string, value: string) =>
      value !== '' && SECRET_QUERY_PARAMS.has(name.toLowerCase()) ? `${sep}${name}=***` : whole,
    )
  );
}

const isSchemeChar = (c: number): boolean =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 46;
const isLetter = (c: number): boolean => (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
/** Where a URL quoted in text ends: white space, quotes, angle brackets. */
const endsUrl = (c: number): boolean => c <= 32 || c === 34 || c === 39 || c === 60 || c === 62;

/**
 * Every `scheme://...` URL inside a text (a log message, an error from GStreamer) redacted. One
 * pass: each "://" is found once, its scheme walked back over (scheme runs of two "://" never
 * overlap), and the scan goes on after the URL.
 */
export function redactUrlsIn(text: string): string {
  let out = '';
  let copied = 0;
  let from = 0;
  for (;;) {
    const sep = text.indexOf('://', from);
    if (sep < 0) break;
    let start = sep;
    while (start > copied && isSchemeChar(text.charCodeAt(start - 1))) start--;
    // A scheme starts with a letter: skip leading digits and signs.
    while (start < sep && !isLetter(text.charCodeAt(start))) start++;
    let end = sep + 3;
    while (end < text.length && !endsUrl(text.charCodeAt(end))) end++;
    if (start === sep || end === sep + 3) {
      from = sep + 1;
      continue;
    }
    out += text.slice(copied, start) + redactUrl(text.slice(start, end));
    copied = end;
    from = end;
  }
  return copied === 0 ? text : out + text.slice(copied);
}

/** Replaces every occurrence of each non-empty secret value with "***". */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join('***');
  return out;
}
