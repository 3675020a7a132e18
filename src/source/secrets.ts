// Text from GStreamer or a child may quote the camera URL: it is scrubbed before it is shown.
import { redactSecrets, redactUrlsIn } from '../redact.js';

/** The URL's password as written and percent-decoded; the URL parser finds it even with a raw '@' in it. */
function passwordForms(url: string): string[] {
  let password: string;
  try {
    password = new URL(url).password;
  } catch {
    return [];
  }
  if (!password) return [];
  const forms = new Set([password]);
  try {
    forms.add(decodeURIComponent(password));
  } catch {
    // Not valid percent-encoding: the raw form is all there is.
  }
  return [...forms];
}

/** `text` with the URL's password replaced and every URL in it redacted. */
export function scrubSecrets(text: string, url: string): string {
  return redactUrlsIn(redactSecrets(text, passwordForms(url)));
}
