// Secrets (camera passwords in URLs, MQTT credentials) must never reach logs, metrics or payloads.

/** The URL with any user-info password replaced by "***" (user names kept: they help debugging). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/\s]*)@/i, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon < 0 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}
