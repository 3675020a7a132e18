// Text from GStreamer or a child may quote the camera URL: it is scrubbed before it is shown.
import { redactUrl } from '../redact.js';

/** `text` with the URL's password (raw and percent-decoded) replaced and every URL redacted. */
export function scrubSecrets(text: string, url: string): string {
  let out = text;
  const m = /^[a-z][a-z0-9+.-]*:\/\/[^/@\s:]*:([^/@\s]*)@/i.exec(url);
  const password = m?.[1];
  if (password) {
    let decoded = password;
    try {
      decoded = decodeURIComponent(password);
    } catch {
      // Not valid percent-encoding: the raw form is all there is.
    }
    for (const secret of new Set([password, decoded])) out = out.split(secret).join('***');
  }
  return out.replace(/[a-z][a-z0-9+.-]*:\/\/[^\s"']+/gi, (u) => redactUrl(u));
}
