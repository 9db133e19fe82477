import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Backoff, BoundedQueue, sleep, Waker } from '../../src/notify/queue.js';

describe('BoundedQueue', () => {
  it('keeps FIFO order and drops the oldest on overflow', () => {
    const q = new BoundedQueue<number>(3);
    expect(q.push([1, 2])).toBe(0);
    expect(q.push([3, 4, 5])).toBe(2);
    expect(q.length).toBe(3);
    expect(q.peek(10).items).toEqual([3, 4, 5]);
  });

  it('ack removes only what was sent, even when overflow dropped part of the batch', () => {
    const q = new BoundedQueue<string>(4);
    q.push(['a', 'b', 'c']);
    const batch = q.peek(2);
    expect(batch.items).toEqual(['a', 'b']);
    q.push(['d', 'e', 'f']); // drops a, b
    expect(q.peek(10).items).toEqual(['c', 'd', 'e', 'f']);
    expect(q.ack(batch.lastSeq)).toBe(0);
    expect(q.peek(10).items).toEqual(['c', 'd', 'e', 'f']);
    const b2 = q.peek(3);
    expect(q.ack(b2.lastSeq)).toBe(3);
    expect(q.peek(10).items).toEqual(['f']);
  });

  it('rejects a non-positive capacity', () => {
    expect(() => new BoundedQueue(0)).toThrow(/positive integer/);
  });

  it('property: equals a reference model under random push/peek/ack', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.array(fc.oneof(fc.record({ push: fc.integer({ min: 0, max: 30 }) }), fc.record({ ackN: fc.integer({ min: 0, max: 30 }) })), { maxLength: 60 }),
        (cap, ops) => {
          const q = new BoundedQueue<number>(cap);
          let model: number[] = [];
          let next = 0;
          let dropped = 0;
          let acked = 0;
          for (const op of ops) {
            if ('push' in op) {
              const vals = Array.from({ length: op.push }, () => next++);
              dropped += q.push(vals);
              model.push(...vals);
              if (model.length > cap) model = model.slice(model.length - cap);
            } else {
              const b = q.peek(op.ackN);
              expect(b.items).toEqual(model.slice(0, op.ackN));
              acked += q.ack(b.lastSeq);
              model = model.slice(b.items.length);
            }
            expect(q.length).toBe(model.length);
          }
          expect(q.peek(1000).items).toEqual(model);
          expect(dropped).toBe(next - acked - model.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('Backoff', () => {
  it('doubles from the initial delay up to the maximum, with equal jitter', () => {
    const hi = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
    expect(Array.from({ length: 6 }, () => hi.next())).toEqual([100, 200, 400, 800, 1000, 1000]);
    const lo = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    expect(Array.from({ length: 3 }, () => lo.next())).toEqual([50, 100, 200]);
    lo.reset();
    expect(lo.failures).toBe(0);
    expect(lo.next()).toBe(50);
  });

  it('defaults to 100 ms → 10 s', () => {
    const b = new Backoff({ random: () => 0.999999 });
    const seq = Array.from({ length: 12 }, () => b.next());
    expect(seq[0]).toBe(100);
    expect(seq.at(-1)).toBe(10_000);
  });
});

describe('Waker and sleep', () => {
  it('a wake before wait is not lost; wait times out', async () => {
    const w = new Waker();
    w.wake();
    await w.wait(); // resolves at once
    const t0 = Date.now();
    await w.wait(30);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(25);
  });

  it('sleep ends early on abort', async () => {
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 10);
    await sleep(5000, ac.signal);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
