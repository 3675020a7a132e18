// One inference worker thread and the requests it has not answered yet. A request past its
// timeout is failed; the thread is then useless (a blocked session.run() cannot be interrupted)
// and its owner replaces it. Terminating a worker inside session.run() aborts the whole process
// (onnxruntime-node throws into a dying environment when the run returns), so a busy thread is
// retired: it is terminated once it answers.
import { Worker } from 'node:worker_threads';
import { MstaError } from '../errors.js';
import { InferenceFailure, type InferenceFailureReason } from './inference-failure.js';
import type { ReadyReply, ResultReply, WorkerReply, WorkerRequest } from './worker-protocol.js';

interface Pending {
  resolve: (r: ResultReply) => void;
  reject: (e: unknown) => void;
  timer: NodeJS.Timeout | undefined;
}

export class InferenceThread {
  readonly worker: Worker;
  /** Set once it has died, hung or is being closed: it takes no more requests. */
  dead = false;
  private closing = false;
  /** Requests the worker has been sent and has not answered, failed here or not. */
  private unanswered = 0;
  private terminated: Promise<void> | undefined;
  /** Resolves when the thread has ended, however it ended. */
  private readonly ended: Promise<void>;
  private nextId = 0;
  private readonly pending = new Map<number, Pending>();

  /** `onDeath` is called once, when the thread exits or hangs unasked. */
  constructor(private readonly onDeath: (reason: InferenceFailureReason, message: string) => void) {
    const dev = import.meta.url.endsWith('.ts');
    const entry = new URL(`./inference-worker${dev ? '.ts' : '.js'}`, import.meta.url);
    // Under tsx (development, tests) the worker is TypeScript too; on Node 20 a worker's
    // `--import tsx` does not cover its entry module, so a bootstrap registers tsx first.
    this.worker = dev
      ? new Worker(`import(${JSON.stringify(import.meta.resolve('tsx/esm/api'))}).then((t) => { t.register(); return import(${JSON.stringify(entry.href)}); });`, { eval: true })
      : new Worker(entry);
    this.worker.on('message', (reply: WorkerReply) => {
      this.unanswered -= 1;
      if (this.closing && this.unanswered === 0) void this.stopNow();
      if (reply.kind === 'ready' || reply.id === undefined) return;
      const p = this.pending.get(reply.id);
      if (!p) return;
      this.settle(reply.id);
      if (reply.kind === 'result') p.resolve(reply);
      else p.reject(new InferenceFailure('error', reply.message));
    });
    this.ended = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.on('error', (e) => this.die('worker_exit', `inference worker failed: ${e.message}`));
    this.worker.on('exit', (code) => this.die('worker_exit', `inference worker exited (code ${code})`));
  }

  /** Requests sent and not answered yet (video or text): a worker runs them one at a time, in order. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Loads the graphs and warms up; rejects on a load error, an exit, or after `timeoutMs`. */
  init(request: WorkerRequest, timeoutMs: number): Promise<ReadyReply> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.worker.off('message', onMessage);
        this.worker.off('exit', onExit);
      };
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => {
            done();
            reject(new InferenceFailure('timeout', `inference worker did not load and warm up within ${(timeoutMs / 1000).toFixed(1)} s`));
          }, timeoutMs)
        : undefined;
      const onExit = (code: number): void => {
        done();
        reject(new MstaError('INFERENCE_FAILED', `inference worker exited while loading (code ${code})`));
      };
      const onMessage = (reply: WorkerReply): void => {
        if (reply.kind === 'ready') resolve(reply);
        else if (reply.kind === 'error' && reply.id === undefined) reject(new MstaError(reply.code, reply.message));
        else return;
        done();
      };
      this.worker.on('message', onMessage);
      this.worker.once('exit', onExit);
      this.unanswered += 1;
      this.worker.postMessage(request);
    });
  }

  /** Sends a request; past `timeoutMs` (when given) it fails and the thread counts as hung. */
  request(make: (id: number) => WorkerRequest, transfer: ArrayBuffer[], timeoutMs?: number): Promise<ResultReply> {
    if (this.dead) return Promise.reject(new InferenceFailure('worker_exit', 'inference worker is gone'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer =
        timeoutMs === undefined
          ? undefined
          : setTimeout(() => this.die('timeout', `inference took longer than ${(timeoutMs / 1000).toFixed(2)} s`), timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.unanswered += 1;
      this.worker.postMessage(make(id), transfer);
    });
  }

  /**
   * Stops the thread: now when it is idle; when it is inside an inference, as soon as that
   * answers (meanwhile it no longer keeps the process alive). Resolves when it has ended: a
   * process must not exit while one of its threads is inside session.run() (it would abort).
   */
  retire(): Promise<void> {
    this.closing = true;
    this.die('worker_exit', 'inference worker closed');
    if (this.unanswered === 0) void this.stopNow();
    else this.worker.unref();
    return this.ended;
  }

  /** Waits for a retired thread to end, keeping the process alive meanwhile. */
  untilEnded(): Promise<void> {
    this.worker.ref();
    return this.ended;
  }

  private stopNow(): Promise<void> {
    this.terminated ??= this.worker.terminate().then(() => undefined);
    return this.terminated;
  }

  private settle(id: number): void {
    clearTimeout(this.pending.get(id)?.timer);
    this.pending.delete(id);
  }

  /** Fails every request in flight with `reason`, once, and tells the owner (unless closing). */
  private die(reason: InferenceFailureReason, message: string): void {
    if (this.dead) return;
    this.dead = true;
    const failure = new InferenceFailure(reason, message);
    for (const [id, p] of this.pending) {
      this.settle(id);
      p.reject(failure);
    }
    if (!this.closing) this.onDeath(reason, message);
  }
}
