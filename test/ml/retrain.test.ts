import { describe, expect, it } from 'vitest';
import { RetrainScheduler, trainInWorker, type ScheduleFn } from '../../src/ml/retrain.js';
import { loadModelBytes } from '../../src/ml/session.js';
import { ValidationError } from '../../src/model/errors.js';

function fakeSchedule(): { fn: ScheduleFn; ticks: Map<string, () => void | Promise<void>>; stopped: string[] } {
  const ticks = new Map<string, () => void | Promise<void>>();
  const stopped: string[] = [];
  return {
    ticks,
    stopped,
    fn: (_expr, fn, o) => {
      ticks.set(o.name, fn);
      return { stop: () => void stopped.push(o.name) };
    },
  };
}

describe('RetrainScheduler', () => {
  it('validates cron expressions', () => {
    const s = new RetrainScheduler({ onModel: () => {}, schedule: fakeSchedule().fn });
    expect(() => s.add('x', 'every night', async () => undefined)).toThrow(ValidationError);
    expect(() => s.add('x', '0 3 * * *', async () => undefined)).not.toThrow();
    s.stop();
  });

  it('swaps the model on success, skips overlapping ticks, counts failures', async () => {
    const fake = fakeSchedule();
    const swapped: [string, number][] = [];
    const s = new RetrainScheduler({ onModel: (n, b) => void swapped.push([n, b.length]), schedule: fake.fn });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    s.add('fc', '0 3 * * *', async () => {
      await gate;
      return new Uint8Array(7);
    });
    const first = fake.ticks.get('vigil-retrain-fc')!();
    const second = s.runNow('fc'); // overlaps: skipped
    expect(s.stats('fc')!.skipped).toBe(1);
    release();
    await Promise.all([first, second]);
    expect(swapped).toEqual([['fc', 7]]);
    expect(s.stats('fc')!.runs).toBe(1);

    s.add('bad', '*/5 * * * *', async () => {
      throw new Error('boom');
    });
    await s.runNow('bad');
    expect(s.stats('bad')!.failures).toBe(1);
    s.stop();
    expect(fake.stopped).toEqual(expect.arrayContaining(['vigil-retrain-fc', 'vigil-retrain-bad']));
  });

  it('trains in a worker thread without blocking the event loop', async () => {
    const series = Array.from({ length: 3 }, (_, k) => Float64Array.from({ length: 3000 }, (_, i) => 100 + 10 * Math.sin((i + k * 17) / 20) + ((i * 7919) % 13) / 13));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const bytes = await trainInWorker({ kind: 'anomaly', series, stepMs: 60_000, window: 32 });
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
    const s = await loadModelBytes(bytes, { kind: 'anomaly', window: 32 }, 'refit');
    expect(s.info.metadata['vigil.trained_on']).toMatch(/online refit on 3 series/);
    await s.close();
    const ac = new AbortController();
    const p = trainInWorker({ kind: 'anomaly', series, stepMs: 60_000, window: 32 }, ac.signal);
    ac.abort(new Error('stop'));
    await expect(p).rejects.toThrow('stop');
  });
});
