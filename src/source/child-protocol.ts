// What the parent and a source child say to each other besides frames.
import type { PipelineOptions } from './pipeline-description.js';

/** The first line on the child's stdin (JSON). The URL travels here, never in argv or env (passwords). */
export interface ChildRequest extends PipelineOptions {
  url: string;
  /** Files: start again at the end instead of ending. */
  loop: boolean;
}

/** Later stdin lines: the parent asks the child to stop; stdin closing means the same. */
export const STOP_COMMAND = 'stop';
/** Later stdin lines: open or shut the snapshot branch's valve (JPEGs encoded or not). */
export const SNAPSHOTS_ON_COMMAND = 'snapshots on';
export const SNAPSHOTS_OFF_COMMAND = 'snapshots off';

/** JSON payloads of message records (see frame-record.ts). */
export type ChildMessage =
  | { type: 'started'; pipeline: string }
  | { type: 'error'; message: string; element?: string; fatal: boolean }
  | { type: 'eos' };
