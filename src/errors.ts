// Typed errors: every failure a user can cause carries a stable code and says what and where.

export type ErrorCode =
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_UNREADABLE'
  | 'CONFIG_INVALID'
  | 'CLI_USAGE'
  | 'SOURCE_URL_INVALID'
  | 'SOURCE_FAILED'
  | 'SOURCE_STALLED'
  | 'SOURCE_UNSUPPORTED'
  | 'CLIP_SIZE_MISMATCH'
  | 'BUNDLE_NOT_FOUND'
  | 'BUNDLE_INVALID'
  | 'BUNDLE_HASH_MISMATCH'
  | 'BUNDLE_GRAPH_MISMATCH'
  | 'PROVIDER_UNKNOWN'
  | 'PROVIDER_UNAVAILABLE'
  | 'INFERENCE_FAILED'
  | 'VOCAB_INVALID'
  | 'LABELS_INVALID'
  | 'MQTT_FAILED'
  | 'MQTT_TOPIC_INVALID'
  | 'SPOOL_FAILED'
  | 'SPOOL_LOCKED'
  | 'HTTP_LISTEN_FAILED';

export class MstaError extends Error {
  readonly code: ErrorCode;
  /** Where: a config path, file, topic or camera id. */
  readonly where: string | undefined;

  constructor(code: ErrorCode, message: string, options: { where?: string; cause?: unknown } = {}) {
    super(options.where ? `${options.where}: ${message}` : message, { cause: options.cause });
    this.name = 'MstaError';
    this.code = code;
    this.where = options.where;
  }
}

/**
 * Codes of mistakes in what the user gave (config, flags, files it names): exit 2, which systemd
 * does not restart (RestartPreventExitStatus=2), since a restart cannot fix them.
 */
const INPUT_ERRORS: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'CONFIG_NOT_FOUND', 'CONFIG_UNREADABLE', 'CONFIG_INVALID', 'CLI_USAGE', 'SOURCE_URL_INVALID',
  'BUNDLE_NOT_FOUND', 'BUNDLE_INVALID', 'BUNDLE_HASH_MISMATCH', 'BUNDLE_GRAPH_MISMATCH', 'VOCAB_INVALID', 'LABELS_INVALID',
]);

/** The process exit status for an error: 2 for input errors, 1 for everything else. */
export function exitCodeOf(e: unknown): 1 | 2 {
  return e instanceof MstaError && INPUT_ERRORS.has(e.code) ? 2 : 1;
}

export function isMstaError(e: unknown, code?: ErrorCode): e is MstaError {
  return e instanceof MstaError && (code === undefined || e.code === code);
}
