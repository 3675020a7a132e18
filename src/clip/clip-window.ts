import type { Clip, DropReason, Frame } from '../types.js';

export interface ClipWindowOptions {
  camera: string;
  /** The region the frames show (Clip.region); null or absent for the whole camera. */
  region?: string | null;
  /** T, frames per clip. */
  frames: number;
  /** A new clip every `stride` sampled frames. */
  stride: number;
  width: number;
  height: number;
  /** Sampled frames further apart than this restart the window: a clip never spans a stall. */
  maxGapMs: number;
}

/**
 * A sliding window of T frames over preallocated ring storage: pushing a frame copies it into its
 * slot (no allocation per frame); every `stride` frames, once T are held, the window is copied
 * out in order into one contiguous [T,H,W,3] clip buffer that the receiver owns.
 */
export class ClipWindow {
  private readonly frameBytes: number;
  private readonly ring: Uint8Array;
  private readonly times: Float64Array;
  /** Frames held (<= T) and the ring slot the next frame goes to. */
  private held = 0;
  private next = 0;
  private sinceClip = 0;
  private clipSeq = 0;
  private strideNow: number;

  constructor(private readonly options: ClipWindowOptions) {
    if (options.frames < 1 || options.stride < 1) throw new RangeError('frames and stride must be >= 1');
    this.strideNow = options.stride;
    this.frameBytes = options.width * options.height * 3;
    this.ring = new Uint8Array(this.frameBytes * options.frames);
    this.times = new Float64Array(options.frames);
  }

  /** Adds a sampled frame; returns a clip when one is due, or the reason the frame was dropped. */
  push(frame: Frame): Clip | { dropped: DropReason } | undefined {
    const { frames: T, width, height } = this.options;
    if (frame.width !== width || frame.height !== height || frame.data.length !== this.frameBytes) {
      return { dropped: 'size_mismatch' };
    }
    if (this.held > 0 && frame.capturedAt - this.lastTime() > this.options.maxGapMs) this.reset();
    this.ring.set(frame.data, this.next * this.frameBytes);
    this.times[this.next] = frame.capturedAt;
    this.next = (this.next + 1) % T;
    this.held = Math.min(this.held + 1, T);
    this.sinceClip += 1;
    if (this.held < T) return undefined;
    // The first full window makes a clip at once; after that one every `stride` frames.
    if (this.clipSeq > 0 && this.sinceClip < this.strideNow) return undefined;
    this.sinceClip = 0;
    return this.copyOut();
  }

  /** A new stride from the next clip on (the scheduler adapts it to the model's capacity). */
  set stride(n: number) {
    if (!(n >= 1)) throw new RangeError('stride must be >= 1');
    this.strideNow = Math.round(n);
  }

  get stride(): number {
    return this.strideNow;
  }

  reset(): void {
    this.held = 0;
    this.next = 0;
    this.sinceClip = 0;
  }

  private lastTime(): number {
    return this.times[(this.next + this.options.frames - 1) % this.options.frames]!;
  }

  private copyOut(): Clip {
    const { frames: T, width, height, camera } = this.options;
    const data = new Uint8Array(this.frameBytes * T);
    // When full, the oldest frame sits where the next one will go.
    const oldest = this.next;
    const tail = this.ring.subarray(oldest * this.frameBytes);
    data.set(tail, 0);
    data.set(this.ring.subarray(0, oldest * this.frameBytes), tail.length);
    return {
      camera,
      region: this.options.region ?? null,
      seq: this.clipSeq++,
      frames: T,
      height,
      width,
      data,
      firstFrameAt: this.times[oldest]!,
      lastFrameAt: this.lastTime(),
    };
  }
}
