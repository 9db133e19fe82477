/**
 * A token bucket for ingestion rate limits (samples/s with a burst), on an injected clock.
 * Rate and burst can change at any time (hot reload) without resetting the fill level.
 */
import type { Clock } from '../model/clock.js';

/** Outcome of {@link TokenBucket.take}. */
export type TakeResult =
  | { readonly kind: 'ok' }
  /** Not enough tokens now; retry after this many seconds (≥ 1). */
  | { readonly kind: 'wait'; readonly retryAfterSeconds: number }
  /** More than the burst: this many tokens can never be taken at once. */
  | { readonly kind: 'too-large' };

/** Token bucket; `rate` 0 disables limiting. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private rate: number,
    private burst: number,
    private readonly clock: Clock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }

  /** Changes rate and burst (the fill level is clamped to the new burst). */
  configure(rate: number, burst: number): void {
    if (rate === this.rate && burst === this.burst) return;
    this.refill();
    this.rate = rate;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  private refill(): void {
    const now = this.clock.now();
    const dt = Math.max(0, now - this.last) / 1000;
    this.last = now;
    this.tokens = Math.min(this.burst, this.tokens + dt * this.rate);
  }

  /** Tokens available now. */
  available(): number {
    if (this.rate <= 0) return Infinity;
    this.refill();
    return this.tokens;
  }

  /** Takes `n` tokens if available (all or nothing). */
  take(n: number): TakeResult {
    if (this.rate <= 0 || n <= 0) return { kind: 'ok' };
    const burst = Math.max(this.burst, 1);
    if (n > burst) return { kind: 'too-large' };
    this.refill();
    if (this.tokens >= n) {
      this.tokens -= n;
      return { kind: 'ok' };
    }
    return { kind: 'wait', retryAfterSeconds: Math.max(1, Math.ceil((n - this.tokens) / this.rate)) };
  }
}
