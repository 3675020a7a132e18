// Why an inference failed (the label of msta_inference_failures_total), and how long one may take.
import { MstaError } from '../errors.js';

export const INFERENCE_FAILURE_REASONS = ['error', 'timeout', 'worker_exit'] as const;
export type InferenceFailureReason = (typeof INFERENCE_FAILURE_REASONS)[number];

/**
 * A request's timeout: `factor` times the warm-up inference's time per clip of the batch, never
 * under `minSeconds`: a slow host has slow warm-ups too, and one clip's time scales with the batch.
 */
export function inferenceTimeoutMs(warmupSeconds: number, batch: number, timeout: { factor: number; minSeconds: number }): number {
  return Math.max(timeout.factor * warmupSeconds * Math.max(1, batch), timeout.minSeconds) * 1000;
}

/** An inference failure with the reason it is counted under. */
export class InferenceFailure extends MstaError {
  constructor(
    readonly reason: InferenceFailureReason,
    message: string,
  ) {
    super('INFERENCE_FAILED', message);
  }
}

export function failureReason(e: unknown): InferenceFailureReason {
  return e instanceof InferenceFailure ? e.reason : 'error';
}
