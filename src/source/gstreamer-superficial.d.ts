// The part of gstreamer-superficial 1.7.4 (no bundled types) that the source child uses.
declare module 'gstreamer-superficial' {
  /** A bus message: `type` is GStreamer's message type name; errors carry `message`. */
  export interface BusMessage {
    type: string;
    message?: string;
    name?: string;
    _src_element_name?: string;
    [field: string]: unknown;
  }

  export interface AppSink {
    /** Calls back once with the next sample and its caps; `buf` is null at EOS or while flushing. */
    pull(callback: (buf: Buffer | null, caps: Record<string, unknown>) => void): void;
  }

  export class Pipeline {
    /** Throws when the description does not parse (an unknown element, a bad property). */
    constructor(description: string);
    play(): void;
    pause(): void;
    stop(): void;
    /** Seeks to `seconds`; flags are GstSeekFlags (1 = FLUSH). */
    seek(seconds: number, flags: number): boolean;
    findChild(name: string): AppSink | undefined;
    /** The stream position in seconds (-1 when unknown). */
    queryPosition(): number;
    /** Calls back for every bus message until the pipeline is stopped. */
    pollBus(callback: (msg: BusMessage) => void): void;
  }
}
