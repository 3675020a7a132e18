// Turns what mqtt.js and node's net/tls report into one clear, secret-free MstaError.
import { MstaError } from '../errors.js';
import { redactSecrets } from '../redact.js';

const CREDENTIAL_CODES = new Set([4, 5, 134, 135]);
const VERSION_CODES = new Set([1, 132]);

function hint(e: Error & { code?: unknown }): string {
  const code = e.code;
  if (typeof code === 'number') {
    if (CREDENTIAL_CODES.has(code)) return ' (check mqtt.username and mqtt.password, and the broker\'s ACL)';
    if (VERSION_CODES.has(code)) return ' (the broker does not speak this MQTT version: try mqtt.protocol_version 4)';
    return '';
  }
  if (code === 'ECONNREFUSED') return ' (is the broker running and listening there?)';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return ' (unknown host name)';
  if (typeof code === 'string' && /CERT|SELF_SIGNED|ALTNAME|UNABLE_TO|TLS|SSL/.test(code)) {
    return ' (TLS: check mqtt.tls.ca, and that the broker certificate names the host of mqtt.url)';
  }
  return '';
}

/**
 * `where` is the broker URL, already redacted; `secrets` are blanked out of the message in case a
 * library ever echoes one.
 */
export function connectionError(e: unknown, where: string, secrets: readonly (string | undefined)[]): MstaError {
  const err: Error & { code?: unknown } = e instanceof Error ? e : new Error(String(e));
  const code = err.code !== undefined ? ` [${String(err.code)}]` : '';
  const message = redactSecrets(`MQTT broker: ${err.message}${code}${hint(err)}`, secrets);
  return new MstaError('MQTT_FAILED', message, { where });
}
