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
  | 'MODEL_FAILED'
  | 'VOCAB_INVALID'
  | 'LABELS_INVALID'
  | 'MQTT_FAILED'
  | 'MQTT_TOPIC_INVALID'
  | 'SPOOL_FAILED';

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

export function isMstaError(e: unknown, code?: ErrorCode): e is MstaError {
  return e instanceof MstaError && (code === undefined || e.code === code);
}
