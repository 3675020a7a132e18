// Messages between the main thread and an inference worker. Pixel and embedding buffers are
// transferred, never copied, across the thread boundary.
import type { ErrorCode } from '../errors.js';
import type { expectedSignatures } from './check-graph.js';
import type { Fallback, Provider, SessionOptions } from './create-session.js';

export interface InitRequest {
  kind: 'init';
  videoPath: string;
  /** Opened instead of videoPath when the CPU provider serves (the bundle's int8 graph). */
  cpuVideoPath?: string;
  textPath: string;
  session: SessionOptions;
  /** One clip's [T,H,W,3] dims, for the warm-up run. */
  clipShape: [number, number, number, number];
  /** What bundle.json promises; checked before the warm-up run. */
  expected: ReturnType<typeof expectedSignatures>;
  /** sha256 of each graph file by path (bundle.json's), checked before the file is opened. */
  sha256: Record<string, string>;
}

export interface VideoRequest {
  kind: 'video';
  id: number;
  /** One [T,H,W,3] buffer per clip; concatenated in the worker, off the main thread. */
  clips: Uint8Array[];
}

export interface TextRequest {
  kind: 'text';
  id: number;
  ids: BigInt64Array;
  rows: number;
}

export type WorkerRequest = InitRequest | VideoRequest | TextRequest;

export interface ReadyReply {
  kind: 'ready';
  provider: Provider;
  fallbacks: Fallback[];
  warmupSeconds: number;
}

export interface ResultReply {
  kind: 'result';
  id: number;
  embeds: Float32Array;
  seconds: number;
}

export interface ErrorReply {
  kind: 'error';
  /** Absent when init failed. */
  id?: number;
  code: ErrorCode;
  message: string;
}

export type WorkerReply = ReadyReply | ResultReply | ErrorReply;
