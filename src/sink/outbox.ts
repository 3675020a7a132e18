// The event outbox: every event goes into the spool and out to the broker (QoS 1), in spool
// order, at most `window()` unacknowledged; a record leaves the spool on its PUBACK.
//
// The latency path does not wait for the disk: a new event is published at once (from memory)
// while its record is written in the background. If the PUBACK comes first, the record is never
// written, or deleted once its write ends; so an acknowledged event never leaves a record behind.
// The one window this opens: a crash after the event is handed to the socket and before its
// record is on disk (and before its PUBACK) loses it; the caller is told "safe" only once it is
// durable or acknowledged.
//
// Records that cannot be read or parsed are moved aside (bad/) and counted, so they never block
// the ones behind them. An event that cannot be written is still delivered while connected (it
// waits in memory), and counted as lost by reason when it cannot be.
import { MstaError } from '../errors.js';
import { BurstLog } from './burst-log.js';
import type { EventLostReason, SinkMetrics, SpoolDropReason } from './metrics.js';
import { spoolErrno, type Spool } from './spool.js';

export interface OutboxLogger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface OutboxDeps {
  spool: Spool;
  /** Hands one QoS 1 message to the transport; `done` runs on its PUBACK (no error) or failure. */
  send(topic: string, payload: string, done: (err?: Error) => void): void;
  /** Whether sending makes sense now (connected). */
  canSend(): boolean;
  /** Events unacknowledged at once, at most. */
  window(): number;
  /** The topic of a record; throws for a record that is not a usable event. */
  topicOf(record: string): string;
  metrics: SinkMetrics;
  log: OutboxLogger;
}

/** A PUBACK with an error reason code (MQTT 5): the broker will not take this message, ever. */
function isRejection(e: Error): boolean {
  return typeof (e as Error & { code?: unknown }).code === 'number';
}

/** Why a write failed, as a metric label. */
export function lostReason(e: unknown): EventLostReason {
  const code = spoolErrno(e);
  if (code === 'ENOSPC' || code === 'EDQUOT') return 'no_space';
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return 'not_writable';
  return 'write_failed';
}

interface Waiter {
  resolve(): void;
  reject(e: Error): void;
  /** Runs once, when the event is first handed to the broker's connection or durable, whichever first. */
  onSent?: () => void;
  /** Set once its write failed: the reason it is lost if it is never delivered. */
  lost?: { reason: EventLostReason; error: MstaError };
}

export class Outbox {
  /** Records handed to the transport and not yet settled (mqtt.js resends them after a reconnect), with when they were handed over. */
  private readonly inflight = new Map<number, number>();
  /** Callers waiting for their event to be safe (durable or acknowledged). */
  private readonly waiters = new Map<number, Waiter>();
  /** Highest seq handed to the transport: every record after it is still to send. */
  private lastSent = -1;
  /** Counts the failed sends that lowered lastSent (a pump reading a record meanwhile must start over). */
  private resends = 0;
  private pumping = false;
  private repump = false;
  private stopped = false;
  private spoolFull = false;
  private inflightChanged: (() => void) | undefined;
  private readonly burst: BurstLog;

  constructor(private readonly deps: OutboxDeps) {
    this.burst = new BurstLog((m) => deps.log.error(m));
    this.updateGauges();
  }

  get messages(): number {
    return this.deps.spool.messages;
  }

  get inflightCount(): number {
    return this.inflight.size;
  }

  /**
   * Spools one event and sends it as soon as its turn comes. Resolves once it is safe: on disk,
   * or acknowledged by the broker. Rejects when it is lost (could not be spooled while offline,
   * or dropped from a full spool before it was written). `onSent` runs once, when the event is
   * first handed to the broker's connection or is durable, whichever comes first: where the
   * daemon's part of its latency ends (the broker's acknowledgement is the broker's part).
   */
  add(record: string, onSent?: () => void): Promise<void> {
    if (this.stopped) return Promise.reject(new MstaError('MQTT_FAILED', 'an event arrived after the sink was closed', { where: 'sink' }));
    const { spool, metrics } = this.deps;
    const { seq, dropped, durable } = spool.append(record);
    if (dropped.length > 0) {
      metrics.spoolDropped.inc({ reason: 'full' }, dropped.length);
      // Once per filling-up, not per event: the counter has the running total.
      if (!this.spoolFull) this.deps.log.warn('spool full: dropping the oldest events to keep new ones (msta_mqtt_spool_dropped_total)');
      this.spoolFull = true;
      for (const d of dropped) this.settle(d, new MstaError('SPOOL_FAILED', `event dropped from the full spool`, { where: spool.dir }));
    }
    const safe = new Promise<void>((resolve, reject) => this.waiters.set(seq, { resolve, reject, ...(onSent ? { onSent } : {}) }));
    this.updateGauges();
    this.pump();
    durable.then(
      (written) => {
        if (written) this.burst.clear('write');
        this.sent(seq);
        this.settle(seq);
      },
      (e: unknown) => this.onWriteFailed(seq, e as MstaError),
    );
    return safe;
  }

  /** Sends what waits, in order (call on every (re)connect). */
  pump(): void {
    if (this.pumping) {
      this.repump = true;
      return;
    }
    this.pumping = true;
    this.pumpLoop()
      .catch((e: unknown) => this.deps.log.error(`spool delivery stopped: ${(e as Error).message}`))
      .finally(() => {
        this.pumping = false;
        if (this.repump) {
          this.repump = false;
          this.pump();
        }
      });
  }

  /** Resolves once nothing is in flight (close() waits for acknowledgements with it). */
  inflightDrained(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.inflight.size > 0) return;
        this.inflightChanged = undefined;
        resolve();
      };
      this.inflightChanged = check;
      check();
    });
  }

  /** No more sending or resending; pending writes go on. */
  stop(): void {
    this.stopped = true;
  }

  /** Waits for pending writes to finish. */
  flushed(): Promise<void> {
    return this.deps.spool.flushed();
  }

  /** After stop(): counts and reports what never reached the disk nor the broker, and releases the spool. */
  async close(): Promise<void> {
    this.stop();
    await this.deps.spool.flushed();
    for (const [seq, waiter] of this.waiters) {
      if (!waiter.lost) continue;
      this.deps.metrics.eventsLost.inc({ reason: waiter.lost.reason });
      this.deps.log.error(`spooled event ${seq} lost at shutdown: it was never written (${waiter.lost.error.message}) nor acknowledged`);
      this.settle(seq, waiter.lost.error);
    }
    await this.deps.spool.close();
  }

  private onWriteFailed(seq: number, error: MstaError): void {
    const waiter = this.waiters.get(seq);
    const reason = lostReason(error);
    // Already delivered (no waiter left), or deliverable from memory while connected: lost only if it never is.
    if (!waiter || (this.deps.canSend() && !this.stopped && this.deps.spool.has(seq))) {
      if (waiter) waiter.lost = { reason, error };
      this.burst.report('write', `${error.message}; events are published without spooling while connected (msta_mqtt_events_lost_total counts the ones lost)`);
      return;
    }
    void this.deps.spool.remove(seq);
    this.updateGauges();
    this.deps.metrics.eventsLost.inc({ reason });
    this.burst.report('write', `${error.message}; event lost: not connected and not spooled (msta_mqtt_events_lost_total{reason="${reason}"})`);
    this.settle(seq, error);
  }

  private sent(seq: number): void {
    const waiter = this.waiters.get(seq);
    const onSent = waiter?.onSent;
    if (!onSent) return;
    delete waiter.onSent;
    onSent();
  }

  private settle(seq: number, error?: Error): void {
    const waiter = this.waiters.get(seq);
    if (!waiter) return;
    this.waiters.delete(seq);
    if (error) waiter.reject(error);
    else waiter.resolve();
  }

  private async pumpLoop(): Promise<void> {
    const { spool } = this.deps;
    for (;;) {
      if (!this.deps.canSend() || this.stopped || this.inflight.size >= this.deps.window()) return;
      const seq = this.nextToSend();
      if (seq === undefined) return;
      const resends = this.resends;
      let record: string | undefined;
      try {
        record = await spool.read(seq);
      } catch (e) {
        await this.moveAside(seq, 'unreadable', e as Error);
        continue;
      }
      // An earlier record must be sent again (it failed while this one was read): it goes first.
      if (this.resends !== resends) continue;
      this.lastSent = seq;
      if (record === undefined) continue;
      let topic: string;
      try {
        topic = this.deps.topicOf(record);
      } catch (e) {
        await this.moveAside(seq, 'corrupt', e as Error);
        continue;
      }
      this.inflight.set(seq, performance.now());
      this.deps.send(topic, record, (err) => {
        void this.onAck(seq, err).catch((e: unknown) => this.deps.log.error((e as Error).message));
      });
      this.sent(seq);
    }
  }

  private nextToSend(): number | undefined {
    // Records at or before lastSent are the in-flight ones (acked ones are gone), so this scan is short.
    for (const seq of this.deps.spool.seqs()) if (seq > this.lastSent) return seq;
    return undefined;
  }

  private async onAck(seq: number, err: Error | undefined): Promise<void> {
    const { spool, metrics } = this.deps;
    const handed = this.inflight.get(seq);
    this.inflight.delete(seq);
    if (!err) {
      if (handed !== undefined) metrics.eventAck.observe((performance.now() - handed) / 1000);
      this.spoolFull = false;
      // remove() forgets the record at once; gauges and counter then agree before the unlink ends.
      const removed = spool.remove(seq);
      this.updateGauges();
      metrics.published.inc({ kind: 'event' });
      this.settle(seq);
      await removed;
    } else if (isRejection(err)) {
      const removed = spool.remove(seq);
      this.updateGauges();
      metrics.spoolDropped.inc({ reason: 'rejected' });
      this.deps.log.error(`the broker rejected spooled event ${seq}: ${err.message}; dropped`);
      // Settled: the broker answered for it, and the refusal is counted and logged here.
      this.settle(seq);
      await removed;
    } else if (!this.stopped) {
      // Not delivered and not refused: send it again from the spool, in order.
      this.lastSent = Math.min(this.lastSent, seq - 1);
      this.resends++;
    }
    this.updateGauges();
    this.inflightChanged?.();
    this.pump();
  }

  private async moveAside(seq: number, reason: SpoolDropReason, e: Error): Promise<void> {
    const moved = await this.deps.spool.moveAside(seq);
    this.updateGauges();
    this.deps.metrics.spoolDropped.inc({ reason });
    const where = moved ? 'moved to bad/' : 'left in place (could not be moved) and skipped until the next start';
    this.burst.report(reason, `spooled record ${seq} is ${reason} (${e.message}): ${where}; the rest is delivered (msta_mqtt_spool_dropped_total{reason="${reason}"})`);
    this.settle(seq, e);
  }

  private updateGauges(): void {
    this.deps.metrics.spoolMessages.set(this.deps.spool.messages);
    this.deps.metrics.spoolBytes.set(this.deps.spool.bytes);
  }
}
