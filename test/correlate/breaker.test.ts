import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type BreakerState } from '../../src/correlate/breaker.js';
import { FakeClock } from '../../src/model/clock.js';

function make(failures = 3, cooldown = 1000) {
  const clock = new FakeClock(0);
  const changes: [BreakerState, BreakerState][] = [];
  const b = new CircuitBreaker({ failures, cooldown, clock, onChange: (f, t) => changes.push([f, t]) });
  return { b, clock, changes };
}

describe('CircuitBreaker', () => {
  it('opens after N consecutive failures and refuses calls', () => {
    const { b, changes } = make(3);
    b.tryAcquire()!.failure();
    b.tryAcquire()!.failure();
    expect(b.state).toBe('closed');
    b.tryAcquire()!.success(); // resets the streak
    b.tryAcquire()!.failure();
    b.tryAcquire()!.failure();
    expect(b.state).toBe('closed');
    b.tryAcquire()!.failure();
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBeUndefined();
    expect(changes).toEqual([['closed', 'open']]);
  });

  it('lets exactly one probe through after the cool-down and closes on success', () => {
    const { b, clock, changes } = make(1, 1000);
    b.tryAcquire()!.failure();
    clock.advance(999);
    expect(b.tryAcquire()).toBeUndefined();
    clock.advance(1);
    expect(b.state).toBe('half_open');
    const probe = b.tryAcquire();
    expect(probe).toBeDefined();
    expect(b.tryAcquire()).toBeUndefined(); // probe running
    probe!.success();
    expect(b.state).toBe('closed');
    expect(b.tryAcquire()).toBeDefined();
    expect(changes).toEqual([
      ['closed', 'open'],
      ['open', 'half_open'],
      ['half_open', 'closed'],
    ]);
  });

  it('re-opens with a new cool-down when the probe fails; release frees the probe slot', () => {
    const { b, clock } = make(2, 500);
    b.tryAcquire()!.failure();
    b.tryAcquire()!.failure();
    clock.advance(500);
    b.tryAcquire()!.failure();
    expect(b.state).toBe('open');
    clock.advance(499);
    expect(b.state).toBe('open');
    clock.advance(1);
    const p = b.tryAcquire()!;
    p.release();
    expect(b.state).toBe('half_open');
    const p2 = b.tryAcquire()!;
    p2.success();
    p2.failure(); // second report ignored
    expect(b.state).toBe('closed');
  });
});
