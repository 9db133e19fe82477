/**
 * Scheduled refits (`retrain: "0 3 * * *"` on a rule or globally) with node-cron. A refit
 * never blocks rule evaluation: training runs in a worker thread ({@link trainInWorker}), the
 * scheduler skips a tick while the previous refit of the same job still runs, and every failure
 * is caught, logged and counted; the caller swaps the new model in (e.g. `loadModelBytes`).
 */
import { Worker } from 'node:worker_threads';
import cron from 'node-cron';
import { ValidationError } from '../model/errors.js';
import { nopLogger, type Logger } from '../model/logger.js';
import type { ModelKind } from './model.js';

/** A refit job: produces new model bytes (or nothing to keep the current model). */
export type RetrainFn = (signal: AbortSignal) => Promise<Uint8Array | undefined>;

/** Called with the new bytes after a successful refit. */
export type ModelSwapFn = (name: string, bytes: Uint8Array) => void | Promise<void>;

/** The subset of node-cron's `schedule` the scheduler uses (injectable for tests). */
export type ScheduleFn = (expr: string, fn: () => void | Promise<void>, opts: { name: string; noOverlap: boolean }) => { stop(): void | Promise<void> };

/** Options of {@link RetrainScheduler}. */
export interface RetrainSchedulerOptions {
  readonly onModel: ModelSwapFn;
  readonly logger?: Logger;
  readonly schedule?: ScheduleFn;
}

/** Per-job counters (exported by the caller as metrics). */
export interface RetrainStats {
  runs: number;
  failures: number;
  skipped: number;
  lastDurationMs: number;
  lastSuccess: number;
}

interface Job {
  readonly fn: RetrainFn;
  readonly stats: RetrainStats;
  running: Promise<void> | undefined;
  abort: AbortController | undefined;
  task: { stop(): void | Promise<void> } | undefined;
}

/** Runs refit jobs on cron schedules. */
export class RetrainScheduler {
  private readonly jobs = new Map<string, Job>();
  private readonly logger: Logger;
  private readonly schedule: ScheduleFn;

  constructor(private readonly opts: RetrainSchedulerOptions) {
    this.logger = opts.logger ?? nopLogger;
    this.schedule = opts.schedule ?? ((expr, fn, o) => cron.schedule(expr, fn, o));
  }

  /** Validates a cron expression (5 or 6 fields); throws a ValidationError naming the problem. */
  static validate(expr: string): void {
    if (typeof expr !== 'string' || expr.length > 200 || !cron.validate(expr)) {
      throw new ValidationError(`invalid retrain schedule ${JSON.stringify(expr)}: want a cron expression such as "0 3 * * *"`);
    }
  }

  /** Adds (or replaces) job `name` on schedule `expr`. */
  add(name: string, expr: string, fn: RetrainFn): void {
    RetrainScheduler.validate(expr);
    this.remove(name);
    const job: Job = { fn, stats: { runs: 0, failures: 0, skipped: 0, lastDurationMs: 0, lastSuccess: 0 }, running: undefined, abort: undefined, task: undefined };
    this.jobs.set(name, job);
    job.task = this.schedule(expr, () => this.tick(name), { name: `vigil-retrain-${name}`, noOverlap: true });
  }

  /** Stops and forgets job `name` (aborting a refit in progress). */
  remove(name: string): void {
    const j = this.jobs.get(name);
    if (!j) return;
    j.abort?.abort(new Error('retrain job removed'));
    void j.task?.stop();
    this.jobs.delete(name);
  }

  /** Counters of job `name`. */
  stats(name: string): RetrainStats | undefined {
    return this.jobs.get(name)?.stats;
  }

  /** Runs job `name` now (skips when it is already running); resolves when it is done. */
  runNow(name: string): Promise<void> {
    return this.tick(name);
  }

  private tick(name: string): Promise<void> {
    const j = this.jobs.get(name);
    if (!j) return Promise.resolve();
    if (j.running) {
      j.stats.skipped++;
      this.logger.warn('retrain still running, skipping tick', { job: name });
      return j.running;
    }
    const ac = new AbortController();
    j.abort = ac;
    const t0 = Date.now();
    j.running = (async () => {
      try {
        const bytes = await j.fn(ac.signal);
        j.stats.runs++;
        if (bytes && !ac.signal.aborted) await this.opts.onModel(name, bytes);
        j.stats.lastSuccess = Date.now();
        this.logger.info('model retrained', { job: name, ms: Date.now() - t0, bytes: bytes?.length ?? 0 });
      } catch (e) {
        j.stats.failures++;
        this.logger.error('retrain failed', { job: name, err: e });
      } finally {
        j.stats.lastDurationMs = Date.now() - t0;
        j.running = undefined;
        j.abort = undefined;
      }
    })();
    return j.running;
  }

  /** Stops every job. */
  stop(): void {
    for (const name of [...this.jobs.keys()]) this.remove(name);
  }
}

/** A refit request for {@link trainInWorker}: the series (oldest first) on the model's step. */
export interface WorkerTrainRequest {
  readonly kind: ModelKind;
  readonly series: readonly Float64Array[];
  readonly stepMs: number;
  /** Forecaster: window/horizons/quantiles (defaults: the shipped spec). Anomaly: window. */
  readonly window?: number;
  readonly horizons?: readonly number[];
  readonly quantiles?: readonly number[];
}

/**
 * Trains a model in a worker thread and resolves with its ONNX bytes (the event loop keeps
 * evaluating rules meanwhile). Aborting `signal` terminates the worker.
 */
export function trainInWorker(req: WorkerTrainRequest, signal?: AbortSignal): Promise<Uint8Array> {
  const isTs = import.meta.url.endsWith('.ts');
  const url = new URL(`./train/worker.${isTs ? 'ts' : 'js'}`, import.meta.url);
  // Under tsx (development, tests) the worker registers tsx's loader before importing the entry.
  const worker = isTs
    ? new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(url.href)}); });`, { eval: true, workerData: req })
    : new Worker(url, { workerData: req });
  return new Promise<Uint8Array>((resolve, reject) => {
    const onAbort = (): void => {
      void worker.terminate();
      reject(signal?.reason instanceof Error ? signal.reason : new Error('retrain aborted'));
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    worker.once('message', (m: { bytes?: Uint8Array; error?: string }) => {
      signal?.removeEventListener('abort', onAbort);
      void worker.terminate();
      if (m.bytes) resolve(new Uint8Array(m.bytes));
      else reject(new Error(`retrain worker failed: ${m.error ?? 'no result'}`));
    });
    worker.once('error', (e) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new Error(`retrain worker crashed: ${e.message}`, { cause: e }));
    });
  });
}
