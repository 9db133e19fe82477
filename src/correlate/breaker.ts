/**
 * A circuit breaker per backend: `closed` (calls pass) → `open` after `failures` consecutive
 * failures (calls are refused at once) → `half_open` after `cooldown` ms, where exactly one probe
 * call is let through → `closed` when the probe succeeds, `open` again (new cool-down) when it
 * fails. Time comes from an injected {@link Clock}; no timers.
 */
import type { Clock } from '../model/clock.js';

/** Breaker states. The number is the value of `vigil_correlation_breaker_state`. */
export type BreakerState = 'closed' | 'open' | 'half_open';

/** Gauge value of each state. */
export const BREAKER_STATE_VALUE: Readonly<Record<BreakerState, number>> = { closed: 0, open: 1, half_open: 2 };

/** Options of {@link CircuitBreaker}. */
export interface BreakerOptions {
  /** Consecutive failures that open the breaker (≥ 1). */
  readonly failures: number;
  /** Time in ms before an open breaker lets a probe through. */
  readonly cooldown: number;
  readonly clock: Clock;
  /** Called on every state change. */
  readonly onChange?: (from: BreakerState, to: BreakerState) => void;
}

/** A permit from {@link CircuitBreaker.tryAcquire}: report the outcome exactly once. */
export interface BreakerPermit {
  /** The call succeeded. */
  success(): void;
  /** The call failed (counts toward opening). */
  failure(): void;
  /** The call ended without telling anything about the backend (e.g. skipped): frees a probe. */
  release(): void;
}

/** See the module comment. */
export class CircuitBreaker {
  private st: BreakerState = 'closed';
  private consecutive = 0;
  private openedAt = 0;
  private probing = false;

  constructor(private readonly opts: BreakerOptions) {}

  /** The current state (an open breaker whose cool-down passed reads as `half_open`). */
  get state(): BreakerState {
    if (this.st === 'open' && this.opts.clock.now() - this.openedAt >= this.opts.cooldown) this.transition('half_open');
    return this.st;
  }

  /** Consecutive failures so far. */
  get failures(): number {
    return this.consecutive;
  }

  /** A permit to call the backend, or undefined when the breaker refuses (open, or a probe is running). */
  tryAcquire(): BreakerPermit | undefined {
    const s = this.state;
    if (s === 'open') return undefined;
    let probe = false;
    if (s === 'half_open') {
      if (this.probing) return undefined;
      this.probing = true;
      probe = true;
    }
    let done = false;
    const finish = (): boolean => {
      if (done) return false;
      done = true;
      if (probe) this.probing = false;
      return true;
    };
    return {
      success: () => {
        if (!finish()) return;
        this.consecutive = 0;
        if (this.st !== 'closed') this.transition('closed');
      },
      failure: () => {
        if (!finish()) return;
        this.consecutive++;
        if (this.st === 'half_open' || (this.st === 'closed' && this.consecutive >= this.opts.failures)) {
          this.openedAt = this.opts.clock.now();
          this.transition('open');
        }
      },
      release: () => {
        finish();
      },
    };
  }

  private transition(to: BreakerState): void {
    const from = this.st;
    if (from === to) return;
    this.st = to;
    this.opts.onChange?.(from, to);
  }
}
